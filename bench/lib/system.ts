// Commands on this machine: is one on the PATH, and installing a Debian package that provides it.
import { spawnSync } from 'node:child_process';

export function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** `command` on the PATH, or `apt-get install -y pkg` (root, Debian) to get it; the error's last line when that fails. */
export function ensureCommand(command: string, pkg: string): string | undefined {
  if (has(command)) return undefined;
  process.stderr.write(`${command} not found: apt-get install -y ${pkg}\n`);
  const install = spawnSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg}`], { encoding: 'utf8' });
  if (install.status === 0 && has(command)) return undefined;
  return `could not install ${pkg}: ${(install.stderr || install.stdout || '').trim().split('\n').slice(-1)[0] ?? ''}`;
}
