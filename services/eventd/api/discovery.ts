// How eventctl finds a running daemon's socket without being told: each
// daemon leaves a note, api-<port>.json, naming its data folder, in a folder
// only its own user can write (/run/eventd for root, else
// $XDG_RUNTIME_DIR/eventd), so no other user can point eventctl elsewhere.
// The note holds paths only, nothing secret; a note whose pid is dead is
// ignored and removed by the next daemon.
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Advert {
  pid: number;
  dataDir: string;
  socket: string;
  url: string;
}

/** Where notes are looked for, most trusted first. */
export function advertDirs(): string[] {
  const dirs = ['/run/eventd'];
  const runtime = process.env['XDG_RUNTIME_DIR'];
  if (runtime !== undefined && runtime !== '') dirs.push(join(runtime, 'eventd'));
  return dirs;
}

function ownAdvertDir(): string | undefined {
  if (process.getuid?.() === 0) return '/run/eventd';
  const runtime = process.env['XDG_RUNTIME_DIR'];
  return runtime === undefined || runtime === '' ? undefined : join(runtime, 'eventd');
}

/** Writes the note for `port`; returns its path, or undefined when there is nowhere to write it. */
export function advertise(port: number, advert: Advert): string | undefined {
  const dir = ownAdvertDir();
  if (dir === undefined) return undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    removeDead(dir);
    const file = join(dir, `api-${port}.json`);
    writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(advert), { mode: 0o644 });
    renameSync(`${file}.${process.pid}.tmp`, file);
    return file;
  } catch {
    return undefined; // eventctl then needs --data-dir or --socket; nothing else changes
  }
}

/** Removes the note if it is still this process's. */
export function withdraw(file: string | undefined): void {
  if (file === undefined) return;
  if (read(file)?.pid === process.pid) {
    try { unlinkSync(file); } catch { /* gone */ }
  }
}

export function findAdvert(port: number): Advert | undefined {
  for (const dir of advertDirs()) {
    const advert = read(join(dir, `api-${port}.json`));
    if (advert !== undefined && alive(advert.pid)) return advert;
  }
  return undefined;
}

function read(file: string): Advert | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<Advert>;
    if (typeof value.pid === 'number' && typeof value.dataDir === 'string' && typeof value.socket === 'string' && typeof value.url === 'string') {
      return { pid: value.pid, dataDir: value.dataDir, socket: value.socket, url: value.url };
    }
  } catch {
    // Missing or torn: no note.
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeDead(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!/^api-\d+\.json$/.test(name)) continue;
    const advert = read(join(dir, name));
    if (advert !== undefined && !alive(advert.pid)) {
      try { unlinkSync(join(dir, name)); } catch { /* raced */ }
    }
  }
}
