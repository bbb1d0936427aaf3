// The baseline of the throughput phases: the same daemons built from an
// earlier commit (main, or the transport path before batching), run
// in the same benchmark beside this build. `git archive` of the commit into a
// temporary folder (no worktree, no checkout), this build's node_modules
// linked in, compiled with this build's TypeScript.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../services/eventd/paths.js';
import type { DaemonFactory } from './burst-cluster.js';

/**
 * The baseline: `main` as built now (what this branch changes), or, run on
 * main itself (nothing to compare with), the commit before the throughput
 * work of issue 11, found by its first commit's subject (hashes change with a rebase).
 */
export function defaultBaselineRef(): string | undefined {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: packageRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      return '';
    }
  };
  const main = git('rev-parse', '--verify', '--quiet', 'main');
  if (main !== '' && main !== git('rev-parse', 'HEAD')) return 'main';
  const subject = '^Cluster throughput: received frames stepped in batches';
  const hash = git('log', '--format=%H', '-1', `--grep=${subject}`);
  return hash === '' ? undefined : `${hash}~1`;
}

/** Builds `ref` under `dir`; resolves to a factory for its daemons, or why there is none. */
export async function baselineDaemons(ref: string, dir: string): Promise<{ factory: DaemonFactory; commit: string } | { missing: string }> {
  let commit: string;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', ref], { cwd: packageRoot }).toString().trim();
  } catch {
    return { missing: `no commit ${ref}` };
  }
  const root = join(dir, `baseline-${commit}`);
  if (!existsSync(join(root, 'dist'))) {
    mkdirSync(root, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C ${JSON.stringify(root)}`], { cwd: packageRoot });
    symlinkSync(join(packageRoot, 'node_modules'), join(root, 'node_modules'));
    execFileSync(process.execPath, [join(packageRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
    execFileSync(process.execPath, ['scripts/copy-assets.mjs'], { cwd: root, stdio: 'inherit' });
  }
  // Its own DaemonProcess: that one starts its own bin/eventd.
  const module: unknown = await import(pathToFileURL(join(root, 'dist', 'test', 'helpers', 'daemon.js')).href);
  const DaemonProcess = (module as { DaemonProcess?: { withConfig: DaemonFactory } }).DaemonProcess;
  if (DaemonProcess === undefined) return { missing: `${commit} has no test/helpers/daemon.ts DaemonProcess` };
  return { factory: (nodeDir, config, t) => DaemonProcess.withConfig(nodeDir, config, t), commit };
}
