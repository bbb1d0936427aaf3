// The producer host: loads plugin folders, wakes and puts producers to sleep
// as subscriptions come and go, and turns what they print or return into
// checked, stamped samples. Whatever a producer does, the host goes on.
import type { Config } from '../config.js';
import { EventdError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { ProducerManifest, Sample } from '../types.js';
import { producerLimits, type LoadedProducer, type ProducerContext, type ProducerReporter } from './contract.js';
import { ExecRunner } from './exec-runner.js';
import { StreamRunner } from './exec-stream.js';
import { fingerprint, loadProducerFolder, pluginFolders } from './manifest.js';
import { checkProducerSettings } from './settings-check.js';
import { ModuleRunner } from './module-runner.js';
import { ProducerProcesses } from './orphans.js';
import { checkSample } from './sample-check.js';
import { PeriodicSchedule } from './schedule.js';

export interface ProducerHostOptions {
  node: string;
  procRoot: string;
  sysRoot?: string;
  dataDir?: string;
  /** Folders each holding plugin folders; built-ins first, then plugins.dirs. */
  dirs: string[];
  config: Config['producers'];
  logger: Logger;
  metrics: Metrics;
  /** Validated samples, stamped with class, node and time (ms). */
  onSamples: (className: string, samples: Sample[]) => void;
}

/** One wake of one producer; reports from a finished session are dropped. */
interface Session {
  active: boolean;
  stop: () => Promise<void>;
}

export class ProducerHost {
  private readonly loaded = new Map<string, LoadedProducer>();
  /** Every plugin folder seen: the fingerprint applied, and the one seen at the last scan. */
  private readonly folders = new Map<string, { applied: string | undefined; candidate: string }>();
  /** Classes some subscription needs, loaded or not: a plugin dropped in later starts at once. */
  private readonly wanted = new Set<string>();
  private watchTimer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> = Promise.resolve();
  private readonly sessions = new Map<string, Session>();
  private readonly closing = new Set<Promise<void>>();

  /** Process groups of executables, recorded in the data folder so the next start can reap them after a kill -9. */
  private readonly processes: ProducerProcesses | undefined;

  constructor(private readonly options: ProducerHostOptions) {
    this.processes = options.dataDir === undefined ? undefined : new ProducerProcesses(options.dataDir);
  }

  /** The first scan of the dirs: every plugin folder found is loaded (or refused, with a log line). */
  async load(): Promise<void> {
    const reaped = this.processes?.reapOrphans() ?? 0;
    if (reaped > 0) this.options.logger.warn({ reaped }, `killed ${reaped} producer process group(s) left running by a previous run of this daemon`);
    await this.scan(true);
  }

  /**
   * Watches the dirs: a folder dropped in, changed or removed while the
   * daemon runs is loaded, reloaded or unloaded at the next scan where its
   * files have stopped changing (so a half-copied folder is not loaded).
   * Polling, not inotify: it works the same on every file system (NFS,
   * overlay, bind mounts) and costs a few stat calls per second.
   */
  watch(intervalMs: number = producerLimits.pluginRescanMs): void {
    if (this.watchTimer) return;
    const again = (): void => {
      this.watchTimer = setTimeout(() => {
        this.scanning = this.scan(false)
          .catch((error: unknown) => this.options.logger.error({ problem: String(error) }, 'plugin scan failed'))
          .finally(() => {
            if (this.watchTimer) again();
          });
      }, intervalMs);
      this.watchTimer.unref();
    };
    again();
  }

  /** One pass over the dirs. `initial`: load at once, without waiting for the folder to be stable. */
  private async scan(initial: boolean): Promise<void> {
    const { logger } = this.options;
    const present = new Set<string>();
    for (const dir of this.options.dirs) {
      let folders: string[];
      try {
        folders = await pluginFolders(dir);
      } catch (error) {
        if (initial) logger.warn({ dir, problem: (error as NodeJS.ErrnoException).code ?? String(error) }, `producer dir ${dir} cannot be read; skipped`);
        continue;
      }
      for (const folder of folders) {
        present.add(folder);
        const print = await fingerprint(folder);
        const seen = this.folders.get(folder);
        if (seen?.applied === print) continue;
        if (!initial && seen?.candidate !== print) {
          // Changed since the last scan (or new): wait until it holds still for one interval.
          this.folders.set(folder, { applied: seen?.applied, candidate: print });
          continue;
        }
        this.folders.set(folder, { applied: print, candidate: print });
        await this.apply(folder, seen?.applied !== undefined);
      }
    }
    for (const folder of [...this.folders.keys()]) {
      if (present.has(folder)) continue;
      this.folders.delete(folder);
      const className = this.classOf(folder);
      if (!className) continue;
      this.unload(className, `its folder ${folder} was removed`);
      // A folder refused for clashing with this one may load now.
      for (const [other, state] of this.folders) if (!this.classOf(other)) state.applied = undefined;
    }
  }

  /** Loads (or reloads) one folder; a refusal leaves the previous version of it unloaded too. */
  private async apply(folder: string, reload: boolean): Promise<void> {
    const { logger } = this.options;
    const previous = this.classOf(folder);
    const result = await loadProducerFolder(folder);
    if (previous) this.unload(previous, reload ? `its folder ${folder} changed` : 'reloaded');
    if (!result.ok) {
      logger.error({ folder, problems: result.problems }, `producer in ${folder} refused: ${result.problems.join('; ')}`);
      return;
    }
    const { manifest } = result.producer;
    const existing = this.loaded.get(manifest.class);
    if (existing) {
      logger.error(
        { folder, class: manifest.class, loadedFrom: existing.folder },
        `producer in ${folder} refused: class ${manifest.class} is already provided by ${existing.folder}`,
      );
      return;
    }
    // A plugin that arrives after start: its settings are checked now, as a built-in's were at start.
    const settingsProblems = checkProducerSettings(manifest, this.options.config[manifest.class]);
    if (settingsProblems.length > 0) {
      logger.error({ folder, class: manifest.class, problems: settingsProblems }, `producer in ${folder} refused: ${settingsProblems.join('; ')}`);
      return;
    }
    this.loaded.set(manifest.class, result.producer);
    logger.info({ class: manifest.class, folder, kind: result.producer.kind }, `producer ${manifest.class} ${reload ? 'reloaded' : 'loaded'}`);
    if (this.wanted.has(manifest.class)) this.start(manifest.class);
  }

  /** Forgets a class: its producer is put to sleep, subscriptions naming it stay and wait for it to come back. */
  private unload(className: string, why: string): void {
    if (this.sessions.has(className)) this.stopSession(className);
    this.loaded.delete(className);
    this.options.logger.warn({ class: className }, `producer ${className} unloaded: ${why}`);
  }

  private classOf(folder: string): string | undefined {
    for (const [className, producer] of this.loaded) if (producer.folder === folder) return className;
    return undefined;
  }

  manifests(): ProducerManifest[] {
    return [...this.loaded.values()].map((producer) => producer.manifest);
  }

  manifest(className: string): ProducerManifest | undefined {
    return this.loaded.get(className)?.manifest;
  }

  /** `producers.<Class>.periodMs` from config, else the manifest's. */
  periodMs(className: string): number {
    const producer = this.loaded.get(className);
    if (!producer) throw new EventdError('EVENTD_ERR_UNKNOWN_CLASS', `no producer provides class ${className}`, { class: className });
    return this.options.config[className]?.periodMs ?? producer.manifest.periodMs;
  }

  /**
   * A subscription needs the class: start its producer, the first run at
   * once, then one per period. Idempotent. A class no producer provides yet
   * (a plugin not dropped in yet, or a peer's class) starts when it appears.
   */
  wake(className: string): void {
    this.wanted.add(className);
    if (!this.loaded.has(className)) {
      this.options.logger.warn({ class: className }, `no producer provides class ${className} yet; it starts when one is loaded`);
      return;
    }
    this.start(className);
  }

  /** No subscription needs the class any more: stop the timer, end the run in flight, call stop() or kill the process. Idempotent. */
  sleep(className: string): void {
    this.wanted.delete(className);
    this.stopSession(className);
  }

  private start(className: string): void {
    if (this.sessions.has(className)) return;
    const producer = this.loaded.get(className);
    if (!producer) return;
    const ctx: ProducerContext = {
      node: this.options.node,
      procRoot: this.options.procRoot,
      sysRoot: this.options.sysRoot ?? '/sys',
      ...(this.options.dataDir === undefined ? {} : { dataDir: this.options.dataDir }),
      periodMs: this.periodMs(className),
      config: { ...(this.options.config[className] ?? {}) },
    };
    const session: Session = { active: true, stop: async () => {} };
    const reporter = this.reporter(producer, session);
    this.sessions.set(className, session);
    this.options.metrics.producersAwake.set(this.sessions.size);
    if (producer.kind === 'exec' && producer.manifest.mode === 'stream') {
      const stream = new StreamRunner(producer, ctx, reporter);
      session.stop = () => stream.close();
      stream.start();
    } else {
      const runner = producer.kind === 'module' ? new ModuleRunner(producer, ctx, reporter) : new ExecRunner(producer, ctx, reporter);
      const schedule = new PeriodicSchedule(ctx.periodMs, runner, reporter);
      session.stop = () => schedule.stop();
      schedule.start();
    }
    reporter.logger.info({ periodMs: ctx.periodMs }, `producer ${className} woken`);
  }

  private stopSession(className: string): void {
    const session = this.sessions.get(className);
    if (!session) return;
    session.active = false;
    this.sessions.delete(className);
    this.options.metrics.producersAwake.set(this.sessions.size);
    const closing: Promise<void> = session
      .stop()
      .catch((error: unknown) => this.options.logger.error({ class: className, problem: String(error) }, `producer ${className} did not stop cleanly`))
      .finally(() => this.closing.delete(closing));
    this.closing.add(closing);
    this.options.logger.info({ class: className }, `producer ${className} asleep`);
  }

  awake(): string[] {
    return [...this.sessions.keys()];
  }

  /** The daemon's shutdown: every producer asleep and every worker and process gone. */
  async stop(): Promise<void> {
    clearTimeout(this.watchTimer);
    this.watchTimer = undefined;
    await this.scanning;
    for (const className of [...this.sessions.keys()]) this.stopSession(className);
    await Promise.all([...this.closing]);
  }

  private reporter(producer: LoadedProducer, session: Session): ProducerReporter {
    const className = producer.manifest.class;
    const { metrics } = this.options;
    const logger = this.options.logger.child({ class: className, folder: producer.folder });
    const processes = this.processes;
    return {
      logger,
      run: () => {
        if (session.active) metrics.producerRuns.inc({ class: className });
      },
      output: (values, garbage) => {
        if (session.active) this.deliver(producer, logger, values, garbage);
      },
      failure: (kind, message) => {
        if (!session.active) return;
        metrics.producerErrors.inc({ class: className, kind });
        logger.warn({ kind, problem: message }, `producer ${className} failed (${kind}): ${message}`);
      },
      ...(processes ? { spawned: (pid: number) => processes.spawned(pid), exited: (pid: number) => processes.exited(pid) } : {}),
    };
  }

  /** Checks each value against the manifest: bad ones are counted and skipped, good ones stamped and passed on. */
  private deliver(producer: LoadedProducer, logger: Logger, values: unknown[], garbage: string[]): void {
    const { manifest } = producer;
    const { metrics, node } = this.options;
    const problems = [...garbage];
    const samples: Sample[] = [];
    const time = Date.now();
    for (const value of values) {
      const checked = checkSample(manifest, value);
      if (checked.ok) samples.push({ class: manifest.class, resource: checked.sample.resource, node, time, attrs: checked.sample.attrs });
      else problems.push(checked.problem);
    }
    if (problems.length > 0) {
      metrics.producerErrors.inc({ class: manifest.class, kind: 'garbage' }, problems.length);
      metrics.samplesRejected.inc({ class: manifest.class }, problems.length);
      logger.warn({ kind: 'garbage', count: problems.length, problems: problems.slice(0, 5) }, `producer ${manifest.class}: ${problems.length} bad sample(s) skipped`);
    }
    if (samples.length === 0) return;
    try {
      this.options.onSamples(manifest.class, samples);
    } catch (error) {
      logger.error({ problem: String(error) }, 'onSamples failed');
    }
  }
}
