// FileSystem: one sample per mounted file system, named by its mount point,
// from the mount table (<procRoot>/self/mounts) and statfs(2). Pseudo file
// systems are skipped; a mount whose statfs fails or hangs is skipped for
// that period only, never failing the whole producer.
import { readFile, statfs as nodeStatfs } from 'node:fs/promises';
import { join } from 'node:path';
import { EventdError, type RawSample } from '../../services/eventd/sdk/index.js';

export interface Mount {
  device: string;
  mountPoint: string;
  fsType: string;
  options: string[];
}

/** The statfs fields used; `bsize` is the unit of `blocks`, `bfree` and `bavail`. */
export interface FsStats {
  bsize: number;
  blocks: number;
  /** Free blocks, the root reserve included. */
  bfree: number;
  /** Free blocks an unprivileged user may take. */
  bavail: number;
  files: number;
  ffree: number;
}

export type Statfs = (path: string) => Promise<FsStats>;

export interface FileSystemOptions {
  /** File system types reported although skipped by default (`tmpfs`). */
  include: string[];
  /** When set, exactly these mount points are reported, whatever their type. */
  mountPoints?: string[];
}

/**
 * Types skipped unless named in `include`: the kernel's pseudo file systems
 * (no disk space behind them), memory-backed tmpfs, and read-only images
 * that are always 100% full (snap packages, CDs).
 */
export const skippedTypes: ReadonlySet<string> = new Set([
  'autofs', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'debugfs', 'devpts', 'devtmpfs',
  'efivarfs', 'fusectl', 'hugetlbfs', 'mqueue', 'nsfs', 'proc', 'pstore', 'ramfs', 'rootfs',
  'rpc_pipefs', 'securityfs', 'selinuxfs', 'sysfs', 'tracefs', 'tmpfs',
  'squashfs', 'iso9660', 'erofs',
]);

/** `/proc/self/mounts`: `device mountPoint fsType options dump pass`, fields unescaped; malformed lines skipped. */
export function parseMounts(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue;
    const [device = '', mountPoint = '', fsType = '', options = ''] = fields.map(unescapeOctal);
    if (!mountPoint.startsWith('/')) continue;
    mounts.push({ device, mountPoint, fsType, options: options.split(',') });
  }
  return mounts;
}

/** `producers.FileSystem` from config: `include` and `mountPoints`, lists of strings; any other key (but `periodMs`) is an error naming it. */
export function fileSystemOptions(config: Record<string, unknown>): FileSystemOptions {
  for (const key of Object.keys(config)) {
    if (key !== 'periodMs' && key !== 'include' && key !== 'mountPoints') {
      throw new EventdError('EVENTD_ERR_BAD_CONFIG', `producers.FileSystem.${key}: unknown key`, { key });
    }
  }
  const include = stringList(config, 'include') ?? [];
  const mountPoints = stringList(config, 'mountPoints');
  return mountPoints === undefined ? { include } : { include, mountPoints };
}

/**
 * The mounts to report: a mount point listed twice (mounted over, or a bind
 * mount) is the last entry, the one a path lookup sees; then the type filter,
 * or the `mountPoints` list when there is one.
 */
export function selectMounts(mounts: Mount[], options: FileSystemOptions): Mount[] {
  const byMountPoint = new Map<string, Mount>();
  for (const mount of mounts) {
    byMountPoint.delete(mount.mountPoint); // keep the table's order, at the last entry's place
    byMountPoint.set(mount.mountPoint, mount);
  }
  const wanted = options.mountPoints === undefined ? undefined : new Set(options.mountPoints);
  const included = new Set(options.include);
  return [...byMountPoint.values()].filter((mount) =>
    wanted !== undefined ? wanted.has(mount.mountPoint) : !skippedTypes.has(mount.fsType) || included.has(mount.fsType),
  );
}

/**
 * One sample per mount that has statfs results, in the order of `mounts`.
 * A mount without results (statfs failed or timed out) or of zero size
 * (df's rule for dummy file systems) is left out.
 */
export function fileSystemSamples(mounts: Mount[], statfsResults: ReadonlyMap<string, FsStats>): RawSample[] {
  const samples: RawSample[] = [];
  for (const mount of mounts) {
    const stats = statfsResults.get(mount.mountPoint);
    if (stats === undefined || !(stats.blocks > 0)) continue;
    const kib = stats.bsize / 1024;
    const usedBlocks = stats.blocks - stats.bfree;
    const inodesUsed = stats.files - stats.ffree;
    samples.push({
      resource: mount.mountPoint,
      attrs: {
        totalKiB: stats.blocks * kib,
        usedKiB: usedBlocks * kib,
        freeKiB: stats.bavail * kib,
        // df's Use%: of the space an unprivileged user can have, the root reserve left out.
        percentUsed: percent(usedBlocks, usedBlocks + stats.bavail),
        inodesTotal: stats.files,
        inodesUsed,
        percentInodesUsed: percent(inodesUsed, stats.files),
        fsType: mount.fsType,
        device: mount.device,
      },
    });
  }
  return samples;
}

export interface FileSystemIo {
  statfs?: Statfs;
  /** Where a mount that starts failing is reported, once until it recovers; the host logs a module's stderr. */
  warn?: (message: string) => void;
}

/** How long one statfs may take before its mount is skipped for the period: half the period, so the run still ends inside it. */
export function statfsTimeoutMs(periodMs: number): number {
  return Math.max(1, Math.floor(periodMs / 2));
}

interface Ctx {
  procRoot: string;
  periodMs: number;
  config: Record<string, unknown>;
}

/** The producer, with its IO injectable; the default export uses node's statfs. */
export function createFileSystemProducer(io: FileSystemIo = {}) {
  const statfs = io.statfs ?? ((path: string) => nodeStatfs(path));
  const warn = io.warn ?? ((message: string) => console.warn(message));
  // A statfs stuck in the kernel (hard NFS mount) holds a libuv pool thread
  // until it returns: never ask the same mount again while one is in flight.
  const inFlight = new Set<string>();
  const failing = new Set<string>();
  let options: FileSystemOptions | undefined;

  async function statfsBounded(mountPoint: string, timeoutMs: number): Promise<FsStats | undefined> {
    if (inFlight.has(mountPoint)) {
      noteFailure(mountPoint, 'statfs still in flight from an earlier period');
      return undefined;
    }
    inFlight.add(mountPoint);
    const call = (async () => statfs(mountPoint))().finally(() => inFlight.delete(mountPoint));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const result = await Promise.race([call, timeout]);
      if (result === 'timeout') {
        call.catch(() => {}); // settles later, or never; nobody waits for it
        noteFailure(mountPoint, `statfs took longer than ${timeoutMs} ms`);
        return undefined;
      }
      failing.delete(mountPoint);
      return result;
    } catch (error) {
      noteFailure(mountPoint, `statfs failed: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  function noteFailure(mountPoint: string, problem: string): void {
    if (failing.has(mountPoint)) return;
    failing.add(mountPoint);
    warn(`FileSystem: ${mountPoint} skipped until it answers: ${problem}`);
  }

  return {
    start(ctx: Ctx): void {
      options = fileSystemOptions(ctx.config);
    },
    async sample(ctx: Ctx): Promise<RawSample[]> {
      options ??= fileSystemOptions(ctx.config);
      const mounts = selectMounts(parseMounts(await readMounts(ctx.procRoot)), options);
      const current = new Set(mounts.map((mount) => mount.mountPoint));
      for (const mountPoint of failing) if (!current.has(mountPoint)) failing.delete(mountPoint); // unmounted since
      const timeoutMs = statfsTimeoutMs(ctx.periodMs);
      const results = new Map<string, FsStats>();
      await Promise.all(
        mounts.map(async (mount) => {
          const stats = await statfsBounded(mount.mountPoint, timeoutMs);
          if (stats !== undefined) results.set(mount.mountPoint, stats);
        }),
      );
      return fileSystemSamples(mounts, results);
    },
  };
}

export default createFileSystemProducer();

/** The mount table of this process's namespace; `<procRoot>/mounts` where there is no `self` (a recorded proc root). */
async function readMounts(procRoot: string): Promise<string> {
  try {
    return await readFile(join(procRoot, 'self', 'mounts'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return await readFile(join(procRoot, 'mounts'), 'utf8');
  }
}

function stringList(config: Record<string, unknown>, key: string): string[] | undefined {
  const value = config[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string' && item.length > 0)) {
    throw new EventdError('EVENTD_ERR_BAD_CONFIG', `producers.FileSystem.${key}: must be a list of non-empty strings`, { key });
  }
  return value;
}

/** `part / whole * 100`, two decimals; 0 when `whole` is 0. */
function percent(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 10000) / 100 : 0;
}

/** The kernel writes spaces, tabs, newlines and backslashes in mount table fields as \040, \011, \012, \134. */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
