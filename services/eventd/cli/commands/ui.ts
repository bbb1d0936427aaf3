// eventctl ui: one login link to this daemon's web console, the way Jupyter hands out its token URL.
import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { contextOf, type GlobalOptions } from '../context.js';

interface UiOptions {
  open?: boolean;
}

export function uiCommand(program: Command): void {
  program
    .command('ui')
    .description('print a one-time login link to the web console (valid 10 minutes, used once)')
    .option('--open', 'also open it in a browser ($BROWSER, else xdg-open)')
    .action(async (options: UiOptions, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      // The code is minted over whatever eventctl reaches the daemon by (socket or token, see endpoint.ts); the link is the TCP address.
      const { client } = contextOf(command);
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
