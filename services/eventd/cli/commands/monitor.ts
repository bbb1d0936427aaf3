// monitor [--class C ...] [--level L] [--kind K,...]: Serf's `serf monitor`. Streams
// what happens on this node (membership, events, queries, the daemon's log) until
// Ctrl-C. The stream is live, not a log: after a lost connection it reconnects
// and goes on from then (what happened meanwhile is in `eventctl events`).
import { InvalidArgumentError, type Command } from 'commander';
import type { MonitorEntry } from '../../messaging/monitor-feed.js';
import { isMonitorKind, isMonitorLevel, monitorKinds, monitorLevels } from '../../messaging/monitor-feed.js';
import type { EventdClient, Query } from '../client.js';
import { contextOf } from '../context.js';
import { keepReading } from '../follow.js';
import { formatTime } from '../format.js';

interface MonitorOptions {
  class: string[];
  level: string;
  kind?: string;
}

function classes(value: string, previous: string[]): string[] {
  const names = value.split(',').map((name) => name.trim()).filter(Boolean);
  if (names.length === 0 || names.some((name) => !/^[A-Z][A-Za-z0-9]*$/.test(name))) throw new InvalidArgumentError('expected a class name (PascalCase, e.g. Deploy)');
  return [...previous, ...names];
}

function level(value: string): string {
  if (!isMonitorLevel(value)) throw new InvalidArgumentError(`expected one of ${monitorLevels.join(', ')}`);
  return value;
}

function kinds(value: string): string {
  const given = value.split(',').map((kind) => kind.trim()).filter(Boolean);
  const bad = given.find((kind) => !isMonitorKind(kind));
  if (given.length === 0 || bad !== undefined) throw new InvalidArgumentError(`expected a comma-separated list of ${monitorKinds.join(', ')}`);
  return given.join(',');
}

export function monitorCommand(program: Command): void {
  program
    .command('monitor')
    .description("stream what happens on this node as it happens: membership changes, events, queries, the daemon's log (like serf monitor); Ctrl-C to stop")
    .option('--class <class>', 'only entries of this class (repeatable, or comma-separated); log lines and queries have no class and stay', classes, [])
    .option('--level <level>', `the lowest level shown: ${monitorLevels.join(', ')}`, level, 'info')
    .option('--kind <kinds>', `only these kinds, comma-separated: ${monitorKinds.join(', ')}`, kinds)
    .action(async (options: MonitorOptions, command: Command) => {
      const context = contextOf(command);
      const query: Query = { level: options.level, kind: options.kind, class: options.class.length === 0 ? undefined : options.class.join(',') };
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await watch(context.client, query, stop.signal, (entry) => context.write(context.json ? `${JSON.stringify(entry)}\n` : `${monitorLine(entry)}\n`));
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** Reads the monitor stream until `signal` aborts (follow.ts keepReading: reconnects, gives up on a 4xx or no daemon at first). */
async function watch(client: EventdClient, query: Query, signal: AbortSignal, print: (entry: MonitorEntry) => void): Promise<void> {
  const notice = (message: string) => process.stderr.write(`eventctl: ${message}\n`);
  await keepReading({
    client, path: '/v1/monitor', query, signal, stream: 'monitor stream', onNotice: notice,
    reconnectedNote: 'entries of the outage are not shown (see eventctl events)',
    onMessage: (_id, data) => {
      const entry = parseEntry(data);
      if (entry === undefined) return notice(`ignored a stream message that is not a monitor entry: ${data.slice(0, 200)}`);
      print(entry);
    },
  });
}

/** `TIME LEVEL KIND [node] message`, one line whatever the message holds. */
export function monitorLine(entry: MonitorEntry): string {
  const node = entry.node === undefined ? '' : ` [${entry.node}]`;
  // eslint-disable-next-line no-control-regex -- control characters from a log line or a raise must not reach the terminal
  const message = entry.message.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return `${formatTime(entry.time)} ${entry.level.toUpperCase().padEnd(5)} ${entry.kind.padEnd(6)}${node} ${message}`;
}

function parseEntry(data: string): MonitorEntry | undefined {
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const { kind, level: entryLevel, time, message } = value as Record<string, unknown>;
    if (typeof kind !== 'string' || !isMonitorKind(kind) || typeof entryLevel !== 'string' || !isMonitorLevel(entryLevel) || typeof time !== 'string' || typeof message !== 'string') return undefined;
    return value as MonitorEntry;
  } catch {
    return undefined;
  }
}
