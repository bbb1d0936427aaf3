// eventctl ui: one login link to this daemon's web console, the way Jupyter hands out its token URL.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { EventdClient } from '../client.js';
import { defaults, type GlobalOptions } from '../context.js';

/** Where the daemon writes a generated token when api.token is not set (the daemon's default data folder). */
const defaultDataDir = './.eventd';

interface UiOptions {
  open?: boolean;
  dataDir: string;
}

/** --token / EVENTD_TOKEN, else the token file the daemon generated in its data folder, else none (a daemon without a token). */
export function consoleToken(given: string | undefined, dataDir: string): string | undefined {
  if (given !== undefined && given !== '') return given;
  const file = join(dataDir, 'api-token');
  if (!existsSync(file)) return undefined;
  return readFileSync(file, 'utf8').trim() || undefined;
}

export function uiCommand(program: Command): void {
  program
    .command('ui')
    .description('print a one-time login link to the web console (valid 10 minutes, used once)')
    .option('--open', 'also open it in a browser ($BROWSER, else xdg-open)')
    .addOption(new Option('--data-dir <dir>', "the daemon's data folder, for its generated api-token").env('EVENTD_DATA_DIR').default(defaultDataDir))
    .action(async (options: UiOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const client = new EventdClient({ api: globals.api, token: consoleToken(globals.token, options.dataDir), requestTimeoutMs: defaults.requestTimeoutMs });
      const { path } = await client.post<{ code: string; path: string; expiresAt: string }>('/v1/ui/login-codes', {});
      const url = new URL(path.replace(/^\//, ''), globals.api.endsWith('/') ? globals.api : `${globals.api}/`).toString();
      process.stdout.write(`${url}\n`);
      if (options.open) openBrowser(url);
    });
}

function openBrowser(url: string): void {
  const browser = process.env['BROWSER'];
  const [command, ...args] = browser ? [...browser.split(' ').filter(Boolean), url] : [process.platform === 'darwin' ? 'open' : 'xdg-open', url];
  const child = spawn(command!, args, { detached: true, stdio: 'ignore' });
  child.on('error', (error) => process.stderr.write(`eventctl: could not open a browser (${error.message}); open the link above\n`));
  child.unref();
}
