// A cgroup (v2) per action run, where the machine allows it: a process group
// is left by anything that calls setsid(), a cgroup is not (systemd's
// KillMode=control-group). Used when /sys/fs/cgroup is the unified hierarchy
// and this daemon's own cgroup is writable; otherwise runs have their process
// group only, and nothing else changes. The script enters its cgroup itself
// before exec (a /bin/sh wrapper writes its pid to cgroup.procs), so nothing
// it starts can be forked outside it.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunCgroup {
  /** The folder under /sys/fs/cgroup; the wrapper writes the script's pid to <path>/cgroup.procs. */
  readonly path: string;
  /** Kills everything in it and removes it; true once it is empty. */
  killAndRemove(): boolean;
  /** Whether any process is still in it. */
  populated(): boolean;
}

export class CgroupPlacer {
  private constructor(private readonly parent: string) {}

  /** The placer for this machine, or undefined when cgroups v2 are not there or not writable (logged by the caller). */
  static detect(root = '/sys/fs/cgroup'): CgroupPlacer | undefined {
    try {
      if (!existsSync(join(root, 'cgroup.controllers'))) return undefined; // not the unified (v2) hierarchy
      const own = /^0::(\/.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
      if (own === undefined) return undefined;
      const parent = join(root, own, 'eventd-actions');
      mkdirSync(parent, { recursive: true });
      // Probe: a child can be made and removed here.
      const probe = join(parent, `probe-${process.pid}`);
      mkdirSync(probe);
      rmdirSync(probe);
      return new CgroupPlacer(parent);
    } catch {
      return undefined;
    }
  }

  create(name: string): RunCgroup | undefined {
    const path = join(this.parent, name);
    try {
      mkdirSync(path);
    } catch {
      return undefined;
    }
    const procs = () => readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter((line) => line !== '').map(Number);
    return {
      path,
      populated: () => {
        try {
          return procs().length > 0;
        } catch {
          return false;
        }
      },
      killAndRemove: () => {
        try {
          if (existsSync(join(path, 'cgroup.kill'))) writeFileSync(join(path, 'cgroup.kill'), '1');
          else for (const pid of procs()) process.kill(pid, 'SIGKILL');
        } catch {
          // Already empty, or gone.
        }
        try {
          rmdirSync(path);
          return true;
        } catch {
          return !existsSync(path);
        }
      },
    };
  }
}
