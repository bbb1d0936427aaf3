// eventctl: the command-line client of eventd's local API.
// Exit codes: 0 ok, 1 the daemon or the network failed, 2 usage, 3 a query some asked node did not answer.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { packageRoot } from '../paths.js';
import { actionCommands } from './commands/actions.js';
import { daemonCommands } from './commands/daemon.js';
import { eventCommands } from './commands/events.js';
import { groupCommands } from './commands/groups.js';
import { monitorCommand } from './commands/monitor.js';
import { producerCommands } from './commands/producers.js';
import { raiseCommands } from './commands/raise.js';
import { tagCommands } from './commands/tags.js';
import { queryCommand } from './commands/query.js';
import { responseCommands } from './commands/responses.js';
import { silenceCommands } from './commands/silences.js';
import { inhibitCommands } from './commands/inhibit.js';
import { subscriptionCommands } from './commands/subscriptions.js';
import { uiCommand } from './commands/ui.js';
import { defaults } from './context.js';
import { CliError, exitFailure, exitUsage } from './errors.js';

function buildProgram(): Command {
  const program = new Command('eventctl')
    .description('Talk to the local eventd: subscriptions, events, actions, status.')
    // Throw instead of exiting, so main() decides the exit code (usage -> 2).
    // Set before adding commands: subcommands inherit it.
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .version(version(), '-V, --version', "print eventctl's version")
    .addOption(new Option('--api <url>', 'eventd API base URL').env('EVENTD_API').default(defaults.api).argParser(apiUrl))
    .addOption(new Option('--token <token>', 'bearer token for the API over TCP (prefer the environment variable)').env('EVENTD_TOKEN'))
    .addOption(new Option('--socket <path>', 'the daemon\'s unix socket (<dataDir>/api.sock); found by itself when not given').env('EVENTD_SOCKET'))
    .addOption(new Option('--data-dir <dir>', 'the daemon\'s data folder: its socket, or its token file over TCP').env('EVENTD_DATA_DIR'))
    .option('--json', 'machine output: the API JSON as is (with events --follow: one event per line)');
  subscriptionCommands(program);
  eventCommands(program);
  raiseCommands(program);
  tagCommands(program);
  queryCommand(program);
  monitorCommand(program);
  actionCommands(program);
  responseCommands(program);
  silenceCommands(program);
  inhibitCommands(program);
  daemonCommands(program);
  groupCommands(program);
  producerCommands(program);
  uiCommand(program);
  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (error) {
    // Commander has already printed its message (or the help).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : exitUsage;
    if (error instanceof CliError) {
      process.stderr.write(`eventctl: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`eventctl: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return exitFailure;
  }
}

/** eventctl's own version (the package's); the daemon's is in `eventctl status`. */
function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

function apiUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected a URL such as http://127.0.0.1:7070');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('expected an http:// or https:// URL');
  return value;
}

// `eventctl ... | head` closes stdout early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await main(process.argv);
