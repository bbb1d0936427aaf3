// A dozen lines instead of a view library: the page is tables, forms and a
// chart, rebuilt when their data change; nothing here needs diffing.
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Element, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function fill(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  if (ms < 60_000) return `${Math.max(0, Math.round(ms / 1000))}s ago`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m ago`;
  if (ms < 86_400_000) return `${Math.round(ms / 3_600_000)}h ago`;
  return new Date(iso).toLocaleString();
}

export function clock(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString([], { hour12: false });
}

/**
 * A table body refreshed by polling whose rows are kept while their data
 * stay the same: a row under the pointer or holding the focus is not
 * replaced by an identical one (a click across a refresh would be lost).
 */
export class KeyedRows<T> {
  private rows = new Map<string, { key: string; row: HTMLTableRowElement }>();

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly make: (item: T) => HTMLTableRowElement,
    private readonly columns: number,
  ) {}

  /** `id` names a row, `key` is what it shows: a row whose key changed is made again. */
  update(items: readonly T[], id: (item: T) => string, key: (item: T) => string, empty: string): void {
    const next = new Map<string, { key: string; row: HTMLTableRowElement }>();
    for (const item of items) {
      const name = id(item);
      const shows = key(item);
      const held = this.rows.get(name);
      next.set(name, held && held.key === shows ? held : { key: shows, row: this.make(item) });
    }
    this.rows = next;
    const wanted = next.size > 0 ? [...next.values()].map((entry) => entry.row) : [h('tr', {}, h('td', { colspan: this.columns, class: 'empty' }, empty))];
    const current = [...this.body.children];
    if (wanted.length === current.length && wanted.every((row, index) => row === current[index])) return;
    this.body.replaceChildren(...wanted);
  }
}
