import type { ControlRequest } from '../logic/operator.js';
import { fill, h } from './dom.js';

let dialog: HTMLDialogElement | undefined;

/**
 * Asks before a control that changes where services run or whether anyone
 * is paged: a modal <dialog> naming what will happen (Hawk's confirmation).
 * Escape or Cancel answers no; focus starts on Cancel, so a stray Enter
 * changes nothing.
 */
export function confirmControl(control: Pick<ControlRequest, 'title' | 'consequence'>, confirmLabel = control.title): Promise<boolean> {
  dialog ??= document.body.appendChild(h('dialog', { id: 'confirm-dialog', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' }));
  const open = dialog;
  const cancel = h('button', { type: 'button', id: 'confirm-cancel' }, 'Cancel');
  const ok = h('button', { type: 'button', id: 'confirm-ok', class: 'danger' }, confirmLabel);
  fill(open, h('h2', { id: 'confirm-title' }, `${control.title}?`), h('p', { id: 'confirm-text' }, control.consequence), h('div', { class: 'toolbar dialog-buttons' }, cancel, ok));
  return new Promise((resolve) => {
    const done = (answer: boolean) => {
      open.removeEventListener('close', closed);
      if (open.open) open.close();
      resolve(answer);
    };
    // Escape closes it; a close event still queued from the dialog before finds this one open and is ignored.
    const closed = () => void (open.open ? undefined : done(false));
    open.addEventListener('close', closed);
    cancel.addEventListener('click', () => done(false));
    ok.addEventListener('click', () => done(true));
    open.showModal();
    cancel.focus();
  });
}
