// What the query tests share: handler scripts written into the test's folder,
// the NDJSON answer of POST /v1/queries read line by line, and reading the
// marks a handler leaves (one line per run, per node).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QueryLine, QuerySummary } from '../../services/eventd/messaging/query-tally.js';
import type { DaemonProcess } from './daemon.js';

export interface QueryScripts {
  /** Prints "up <node> <payload>" and marks the run. */
  uptime: string;
  /** Writes its pid, then sleeps a minute (killed at its timeout). */
  hang: string;
  marks: string;
}

/** Writes the handler scripts under `dir`; marks go to `<dir>/marks/<node>`, the hang's pid to `<dir>/marks/<node>.pid`. */
export function writeQueryScripts(dir: string): QueryScripts {
  const marks = join(dir, 'marks');
  mkdirSync(marks, { recursive: true });
  const script = (name: string, body: string): string => {
    const file = join(dir, `${name}.sh`);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  };
  return {
    marks,
    uptime: script('uptime', `echo "$EVENTD_QUERY_ID" >> "${marks}/$EVENTD_NODE"\nprintf 'up %s %s\\n' "$EVENTD_NODE" "$(cat)"`),
    hang: script('hang', `echo $$ > "${marks}/$EVENTD_NODE.pid"\nexec sleep 60`),
  };
}

/** The query ids a node's uptime handler ran for (one line per run). */
export function runsOf(scripts: QueryScripts, node: string): string[] {
  const file = join(scripts.marks, node);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((line) => line !== '') : [];
}

export function pidOf(scripts: QueryScripts, node: string): number | undefined {
  const file = join(scripts.marks, `${node}.pid`);
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : undefined;
}

/** POST /v1/queries: the status and, on 200, every line of the stream (the request ends with the summary). */
export async function ask(daemon: DaemonProcess, body: unknown): Promise<{ status: number; lines: QueryLine[]; error?: { code: string; details?: { field?: string } } }> {
  const { status, body: answer } = await daemon.request<unknown>('POST', '/v1/queries', body);
  if (status !== 200) return { status, lines: [], error: (answer as { error: { code: string; details?: { field?: string } } }).error };
  const text = typeof answer === 'string' ? answer : `${JSON.stringify(answer)}\n`;
  return { status, lines: text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as QueryLine) };
}

export function summaryOf(lines: readonly QueryLine[]): QuerySummary {
  const last = lines.at(-1);
  if (last?.type !== 'summary') throw new Error(`the stream did not end with a summary: ${JSON.stringify(lines)}`);
  return last;
}

/** Whether a process (a handler left behind?) still runs. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
