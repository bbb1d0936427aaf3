// query NAME: Serf's `serf query`. Asks the matching nodes, prints each answer
// as it arrives (node, round trip, output), then who acked, answered and did
// not. Exit 0 when every asked node answered; exitIncomplete when one is
// missing or answered with an error (Serf exits 0 either way: a script can
// tell the two apart here).
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { QueryLine, QuerySummary } from '../../messaging/query-tally.js';
import { contextOf, type CliContext } from '../context.js';
import { CliError, exitUsage } from '../errors.js';

/** Some asked node did not answer (missing) or answered with an error. */
export const exitIncomplete = 3;
/** Serf's default for a small cluster is about 3.2 s (gossip interval x 16 x log10(N+1)). */
const defaultTimeout = '3s';
/** How long past the query's own timeout the daemon may take to send the summary. */
const graceMs = 10_000;

interface QueryOptions {
  payload?: string;
  tag: string[];
  node: string[];
  local?: boolean;
  timeout: string;
}

function collectTag(value: string, previous: string[]): string[] {
  if (!/^[^=]+=/.test(value)) throw new InvalidArgumentError('expected NAME=VALUE');
  return [...previous, value];
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function queryCommand(program: Command): void {
  program
    .command('query')
    .description('ask the nodes a question (queries.<name> in their config) and print their answers as they come, like serf query')
    .argument('<name>', 'the query, e.g. uptime')
    .option('--payload <text|@file>', 'what the handlers read on stdin; @file reads a file, @- stdin')
    .option('--tag <name=value>', 'only nodes with this tag (repeat: all must hold)', collectTag, [])
    .option('--node <name>', 'only this node (repeat for more)', collect, [])
    .option('--local', 'only this node')
    .option('--timeout <duration>', 'how long to wait for answers (at most 60s)', defaultTimeout)
    .action(async (name: string, options: QueryOptions, command: Command) => {
      const context = contextOf(command);
      if (options.local && options.node.length > 0) throw new CliError('--local and --node: give one of them', exitUsage);
      const tags = Object.fromEntries(options.tag.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
      const body = {
        name,
        timeout: options.timeout,
        ...(options.payload === undefined ? {} : { payload: payloadOf(options.payload) }),
        ...(options.tag.length === 0 ? {} : { tags }),
        ...(options.local ? { scope: 'local' } : options.node.length > 0 ? { scope: options.node } : {}),
      };
      const summary = await ask(context, body, timeoutMs(options.timeout));
      const incomplete = summary.missing.length + summary.failed.length;
      if (incomplete > 0) {
        const parts = [summary.missing.length > 0 ? `missing: ${summary.missing.join(', ')}` : '', summary.failed.length > 0 ? `failed: ${summary.failed.join(', ')}` : ''].filter((part) => part !== '');
        throw new CliError(`${incomplete} of ${summary.asked.length} asked nodes gave no answer (${parts.join('; ')})`, exitIncomplete);
      }
    });
}

/** Reads the stream line by line, prints each, resolves with the summary. */
async function ask(context: CliContext, body: object, waitMs: number): Promise<QuerySummary> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), waitMs + graceMs);
  try {
    const response = await context.client.postStream('/v1/queries', body, stop.signal);
    if (response.body === null) throw new CliError('eventd answered the query with no body');
    const decoder = new TextDecoder();
    let buffered = '';
    let summary: QuerySummary | undefined;
    const rows = new Rows(context);
    for await (const chunk of response.body) {
      buffered += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n')) >= 0) {
        const text = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        if (text.trim() === '') continue;
        const line = JSON.parse(text) as QueryLine;
        if (context.json) context.write(`${text}\n`);
        else rows.print(line);
        if (line.type === 'summary') summary = line;
      }
    }
    if (summary === undefined) throw new CliError('the query stream ended before its summary (the daemon stopped?)');
    return summary;
  } catch (error) {
    if (stop.signal.aborted) throw new CliError(`no summary within ${(waitMs + graceMs) / 1000}s of asking`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Human output: `node  rtt  output`, continuation lines under the output column. */
class Rows {
  constructor(private readonly context: CliContext) {}

  print(line: QueryLine): void {
    switch (line.type) {
      case 'answer': {
        const flags = [line.exitCode !== 0 && line.exitCode !== null ? `exit ${line.exitCode}` : '', line.truncated ? 'truncated' : ''].filter((f) => f !== '');
        this.row(line.node, line.rttMs, line.output.replace(/\n$/, '') + (flags.length > 0 ? ` [${flags.join(', ')}]` : ''));
        break;
      }
      case 'error':
        this.row(line.node, line.rttMs, `error (${line.error}): ${line.message}`);
        break;
      case 'summary': {
        const missing = line.missing.length === 0 ? '' : `, missing: ${line.missing.join(', ')}`;
        const failed = line.failed.length === 0 ? '' : `, failed: ${line.failed.join(', ')}`;
        this.context.write(`${plural(line.acked.length, 'ack')}, ${plural(line.answered.length, 'answer')}${failed}${missing}\n`);
        break;
      }
      case 'query':
      case 'ack':
        break;
    }
  }

  private row(node: string, rttMs: number, text: string): void {
    const head = `${node.padEnd(12)}  ${`${rttMs.toFixed(1)}ms`.padStart(9)}  `;
    const [first = '', ...rest] = text.split('\n');
    this.context.write(`${head}${first}\n${rest.map((more) => `${' '.repeat(head.length)}${more}\n`).join('')}`);
  }
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function payloadOf(value: string): string {
  if (!value.startsWith('@')) return value;
  const file = value.slice(1);
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CliError(`--payload ${value}: ${error instanceof Error ? error.message : String(error)}`, exitUsage);
  }
}

/** The wait bound for the client; the daemon checks the duration itself (a bad one is its 400 naming `timeout`). */
function timeoutMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return 60_000;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms'] ?? 1;
  return Number(match[1]) * unit;
}
