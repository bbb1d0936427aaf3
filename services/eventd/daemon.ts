import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ActionDispatcher, KILL_GRACE_MS } from './actions/index.js';
import { CgroupPlacer } from './actions/cgroup.js';
import { actionProcessListFile, ProducerProcesses } from './producers/orphans.js';
import { advertise, withdraw } from './api/discovery.js';
import { hostCheck } from './api/host-check.js';
import { apiSocketFileName } from './api/local-files.js';
import { ConsumerRouter } from './api/routes/consumers.js';
import { buildApi } from './api/server.js';
import { apiTokens } from './api/tokens.js';
import { listenUnix } from './api/unix-listener.js';
import type { Config } from './config.js';
import { ClusterNode, membersFileName } from './cluster/edge/cluster-node.js';
import { SqliteCoreStore } from './cluster/edge/sqlite-core-store.js';
import type { Json } from './cluster/core/frames.js';
import { ConsumerHost } from './consumers/host.js';
import { loadConsumerPlugins } from './consumers/load.js';
import { consumerServices } from './consumers/services.js';
import { Evaluator } from './evaluation/evaluator.js';
import { EventFeed } from './event-feed.js';
import type { Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';
import { exitOnFatal, type FatalHandler } from './fatal.js';
import { EventLog, LocalRecorder, type EventRecorder } from './log/index.js';
import { builtinConsumersDir, builtinProducersDir, packageRoot } from './paths.js';
import { ProducerHost } from './producers/index.js';
import { InhibitRuleService } from './responses/inhibit-rules.js';
import { ResponseService } from './responses/service.js';
import { SilenceService } from './responses/silences.js';
import type { NamedResponse, Silence, StoredInhibitRule } from './types.js';
import { DataDirLock } from './store/data-dir-lock.js';
import { openStore, prepareDataDir, listenError } from './startup.js';
import { SampleHistory } from './sample-history.js';
import type { Store } from './store/index.js';
import { SubscriptionRegistry } from './subscriptions/registry.js';
import { SubscriptionService } from './subscriptions/service.js';
import { EventClasses } from './messaging/event-classes.js';
import { pruneRaiseKeys, RaiseService } from './messaging/raise.js';
import { tagsKey, TagService, witnessTag } from './messaging/tags.js';
import { QueryHandlers } from './messaging/query-handler.js';
import { committedQueryFrameKinds, queryFrameKinds } from './messaging/query-frames.js';
import { QueryService } from './messaging/queries.js';
import { MonitorFeed } from './messaging/monitor-feed.js';
import { MonitorSources } from './messaging/monitor-sources.js';

const pruneEveryMs = 3_600_000;
const responseKey = 'response:';
const silenceKey = 'silence:';
const inhibitKey = 'inhibit:';

function isNamedResponse(value: Json | null): value is Json & NamedResponse {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value.name === 'string' && Array.isArray(value.actions);
}

function isSilence(value: Json | null): value is Json & Silence {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value.id === 'string' && typeof value.endsAt === 'string'
    && typeof value.matchers === 'object' && value.matchers !== null;
}
function isInhibitRule(value: Json | null): value is Json & StoredInhibitRule {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof value.id === 'string' && typeof value.when === 'object'
    && value.when !== null && !Array.isArray(value.when) && typeof value.when.class === 'string' && typeof value.createdAt === 'string';
}
/** API audit rows kept. */
const auditKept = 100_000;

export const version = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * One event daemon: wires the store, producers, evaluator, actions and API.
 * Its core knows producers only through the plugin host, never by name.
 */
export class Daemon {
  private pruneTimer: NodeJS.Timeout | undefined;
  private unixServer: Server | undefined;
  private advert: string | undefined;
  /** Handlers of received queries still running: ended at stop (they run in their own process groups). */
  private queryHandlers: QueryHandlers | undefined;
  /** Where the API socket is, once listening. */
  readonly socketPath: string;

  private constructor(
    readonly config: Config,
    readonly logger: Logger,
    readonly store: Store,
    readonly metrics: Metrics,
    readonly producers: ProducerHost,
    readonly evaluator: Evaluator,
    readonly subscriptions: SubscriptionService,
    readonly actions: ActionDispatcher,
    readonly api: FastifyInstance,
    readonly consumers: ConsumerHost,
    readonly cluster: ClusterNode | undefined,
    /** The live monitor (`eventctl monitor`); the queries code publishes its entries here too. */
    readonly monitor: MonitorFeed,
    private readonly monitorSources: MonitorSources,
    private readonly lock: DataDirLock,
  ) {
    this.socketPath = join(config.dataDir, apiSocketFileName);
  }

  /**
   * Wires the daemon in dependency order, no late binding. `fatal` is called
   * when a write fails (fail-stop): it must stop the process.
   */
  static async start(config: Config, logger: Logger, fatal: FatalHandler = exitOnFatal(logger)): Promise<Daemon> {
    prepareDataDir(config.dataDir);
    // Before anything touches the folder: a second daemon must change nothing (socket, orphans, store).
    const lock = DataDirLock.acquire(config.dataDir);
    try {
      return await Daemon.wire(config, logger, fatal, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  private static async wire(config: Config, logger: Logger, fatal: FatalHandler, lock: DataDirLock): Promise<Daemon> {
    const store = openStore(config.dataDir);
    const cgroups = CgroupPlacer.detect();
    logger.info({ cgroups: cgroups !== undefined, user: config.actions.user?.name ?? null }, cgroups ? 'each action run gets its own cgroup' : 'cgroups v2 not writable here: action runs get their own process group only');
    const metrics = createMetrics();
    const feed = new EventFeed();
    const actions = new ActionDispatcher({
      runs: store.actionRuns,
      events: store.events,
      logger: logger.child({ component: 'actions' }),
      metrics,
      concurrency: config.actions.concurrency,
      outputLimitBytes: config.actions.outputLimitBytes,
      retry: config.actions.retry,
      ...(config.smtp === undefined ? {} : { smtp: config.smtp }),
      fatal,
      ...(config.actions.user === undefined ? {} : { user: config.actions.user }),
      processes: new ProducerProcesses(config.dataDir, actionProcessListFile),
      ...(cgroups === undefined ? {} : { cgroups }),
    });
    // Responses and silences: in a cluster they live in the core's replicated map (below), keyed apart from subscriptions.
    const responses: ResponseService = new ResponseService({
      node: config.node,
      store,
      logger,
      usedBy: (name) => registry.all().filter((c) => c.subscription.responses?.includes(name)).map((c) => c.subscription.name),
      ...(config.cluster ? { cluster: { put: (r) => cluster?.putEntry(responseKey + r.name, r), delete: (name) => cluster?.deleteEntry(responseKey + name) } } : {}),
    });
    const silences: SilenceService = new SilenceService({
      node: config.node,
      store,
      logger,
      ...(config.cluster ? { cluster: { put: (silence) => cluster?.putEntry(silenceKey + silence.id, silence) } } : {}),
    });
    // Inhibition rules: the config's and the API's (replicated like silences); their memory follows the log.
    const inhibitRules: InhibitRuleService = new InhibitRuleService({
      node: config.node,
      store,
      logger,
      configRules: config.inhibit,
      ...(config.cluster ? { cluster: { put: (rule) => cluster?.putEntry(inhibitKey + rule.id, rule), delete: (id) => cluster?.deleteEntry(inhibitKey + id) } } : {}),
    });
    responses.restore();
    silences.restore();
    // Replayed from the latest source events at start, then fed each append.
    inhibitRules.restore();
    const log = new EventLog({
      store, metrics, feed, onActionsQueued: () => actions.kick(), fatal,
      plan: { response: (name) => responses.lookup(name), mute: (event) => inhibitRules.muting(event) },
      observe: (event) => inhibitRules.observe(event),
    });
    const eventClasses = new EventClasses(config.events.classes);
    // Producers wake when a subscription names their class; the registry reaches them through this hand-off,
    // and they hand samples to the evaluator, made below, only once they are woken (after start).
    const registry = new SubscriptionRegistry({
      // A raised class has no producer: its samples are the raises.
      onClassNeeded: (className) => {
        if (!eventClasses.has(className)) producers.wake(className);
      },
      onClassIdle: (className) => {
        if (!eventClasses.has(className)) producers.sleep(className);
      },
    });
    // A cluster: the core gives every event its identity and fills the log with what it delivers.
    const cluster = config.cluster
      ? new ClusterNode({
          node: config.node,
          settings: config.cluster,
          membersFile: join(config.dataDir, membersFileName),
          store,
          coreStore: new SqliteCoreStore(store.db),
          log,
          logger: logger.child({ component: 'cluster' }),
          metrics,
          subscription: (id) => registry.get(id)?.subscription,
          onSubscriptionChange: (id, value) => replicated(id, value),
          messages: { kinds: queryFrameKinds, committed: committedQueryFrameKinds, receive: (from, body) => queries.receive(from, body) },
        })
      : undefined;
    const monitor = new MonitorFeed();
    const monitorCluster = cluster && config.cluster
      ? { cluster: { view: () => cluster.view(), silentForMs: (peer: string) => cluster.silentForMs(peer), node: config.node, suspectAfterMs: config.cluster.suspectAfterMs, heartbeatMs: config.cluster.heartbeatMs } }
      : {};
    const monitorSources = new MonitorSources({ monitor, feed, logger, ...monitorCluster });
    /** One replicated map, four kinds of entry: subscriptions by id, responses, silences and inhibit rules by prefixed key. */
    function replicated(id: string, value: Json | null): void {
      if (id.startsWith(responseKey)) responses.applyReplicated(id.slice(responseKey.length), isNamedResponse(value) ? value : null);
      else if (id.startsWith(tagsKey)) tags.applyReplicated(id.slice(tagsKey.length), value);
      else if (id.startsWith(silenceKey)) silences.applyReplicated(id.slice(silenceKey.length), isSilence(value) ? value : null);
      else if (id.startsWith(inhibitKey)) inhibitRules.applyReplicated(id.slice(inhibitKey.length), isInhibitRule(value) ? value : null);
      else subscriptions.applyReplicated(id, value);
    }
    const tags: TagService = new TagService({
      node: config.node, configured: config.tags, store, logger,
      ...(config.witness ? { builtIn: { [witnessTag]: 'true' } } : {}),
      ...(cluster ? { publish: (own) => cluster.putEntry(tagsKey + config.node, own) } : {}),
      onChange: () => subscriptions.placeTagScoped(),
      onTagsChanged: (node, changed) => monitorSources.tagsChanged(node, changed),
    });
    const queryHandlers = new QueryHandlers({ node: config.node, handlers: config.queries, ...(config.actions.user === undefined ? {} : { user: config.actions.user }) });
    // Queries travel over the cluster's transport, never through the log; on a single node only this node answers.
    const queries: QueryService = new QueryService({
      node: config.node, handlers: queryHandlers, tags, metrics, monitor, logger: logger.child({ component: 'queries' }), witness: config.witness,
      ...(cluster ? { network: { send: (to, frame) => cluster.sendMessage(to, frame), peers: () => cluster.peers() } } : {}),
    });
    const recorder: EventRecorder = cluster ?? new LocalRecorder(store, log, config.node);
    const history = new SampleHistory();
    const evaluator = new Evaluator({
      node: config.node, store, registry, metrics, log, recorder, logger: logger.child({ component: 'evaluator' }),
      silencing: (draft) => silences.silencing(draft),
      onFault: (id) => subscriptions.suspend(id),
      tags: () => tags.mine(),
    });
    const producers = new ProducerHost({
      node: config.node,
      procRoot: config.procRoot,
      sysRoot: config.sysRoot,
      dataDir: config.dataDir,
      // A witness runs no producers: it only votes.
      dirs: config.witness ? [] : [builtinProducersDir, ...config.plugins.dirs],
      config: config.producers,
      logger: logger.child({ component: 'producers' }),
      metrics,
      onSamples: (className, samples) => {
        history.add(samples);
        void evaluator.submit(className, samples);
      },
    });
    await producers.load();
    eventClasses.checkAgainst(producers.manifests().map((manifest) => manifest.class));
    producers.watch();
    const subscriptions: SubscriptionService = new SubscriptionService({
      node: config.node,
      store,
      registry,
      logger,
      manifest: (className) => producers.manifest(className) ?? eventClasses.manifest(className),
      knownClasses: () => [...producers.manifests(), ...eventClasses.manifests()].map((manifest) => manifest.class),
      onDeleted: (id) => evaluator.forget(id),
      onReplicatedRefused: () => metrics.clusterSubscriptionsRefused.inc(),
      responseExists: (name) => responses.lookup(name) !== undefined,
      tagsHold: (wanted) => tags.matchesHere(wanted),
      health: evaluator.health,
      latestSamples: (className) => evaluator.latestSamples(className),
      ...(cluster ? { cluster: { put: (subscription) => cluster.putSubscription(subscription), delete: (id) => cluster.deleteSubscription(id) } } : {}),
    });
    // Consumers (the MQTT bridge, failover, ...) start once the cluster knows this node's identity: they
    // record events at once (failover announces its node), and a node with a lost store issues no id before
    // its peers told it its last one. They read what came in meanwhile from the log (cursor or history).
    const consumerRoutes = new ConsumerRouter();
    const consumers = new ConsumerHost({
      node: config.node,
      witness: config.witness,
      plugins: await loadConsumerPlugins(builtinConsumersDir),
      settings: config.consumers,
      store,
      feed,
      logger,
      registry: metrics.registry,
      routes: consumerRoutes,
      services: consumerServices({ node: config.node, log, recorder, cluster, settings: config.cluster, subscriptions }),
      fatal,
    });
    const raise = new RaiseService({
      node: config.node, clustered: cluster !== undefined, classes: eventClasses, store, log, recorder, feed,
      submit: (className, samples) => evaluator.submit(className, samples),
    });
    subscriptions.restore();
    for (const { id, value } of cluster?.subscriptions() ?? []) replicated(id, value);
    // The API is built and ready (its routes' schemas compiled) before the cluster starts: the build holds
    // the event loop for a few hundred milliseconds, and once the cluster and failover run, a stall that
    // long can outlast the lease of a group this node just took (it would stop the group at once).
    const api = await buildApi(
      {
        config,
        auth: { tokens: apiTokens(config, logger), hosts: hostCheck(config.api.host, config.api.allowedHosts) },
        version, startedAt: Date.now(), store, subscriptions, responses, silences, inhibitRules, evaluator, feed, metrics, history, producers, ...(cluster ? { cluster } : {}), consumerRoutes, internalClasses: consumers.internalClasses, raise, eventClasses, tags, queries, monitor },
      logger,
    );
    api.addHook('onResponse', async () => void metrics.subscriptions.set(registry.size));
    await api.ready();
    if (cluster) await cluster.start();
    tags.announce();
    await consumers.start();
    metrics.subscriptions.set(registry.size);
    actions.start();
    monitorSources.start();
    const daemon = new Daemon(config, logger, store, metrics, producers, evaluator, subscriptions, actions, api, consumers, cluster, monitor, monitorSources, lock);
    // A failed delete is a failed write like any other (fail-stop), not an uncaught exception out of a timer.
    const prune = () => {
      try {
        daemon.prune();
      } catch (error) {
        fatal(error, 'pruning old events');
        throw error;
      }
    };
    prune();
    daemon.queryHandlers = queryHandlers;
    daemon.pruneTimer = setInterval(prune, pruneEveryMs);
    daemon.pruneTimer.unref();
    return daemon;
  }

  /** Starts serving the local API on TCP and on <dataDir>/api.sock; resolves to the TCP address. */
  async listen(): Promise<string> {
    const { host, port } = this.config.api;
    let address: string;
    try {
      address = await this.api.listen({ host, port });
    } catch (error) {
      throw listenError(error, host, port);
    }
    this.unixServer = await listenUnix(this.api, this.socketPath, this.config.api.socketGroup);
    const bound = this.api.server.address();
    if (bound !== null && typeof bound === 'object') {
      this.advert = advertise(bound.port, { pid: process.pid, dataDir: this.config.dataDir, socket: this.socketPath, url: address });
    }
    return address;
  }

  /**
   * A graceful stop, bounded by `deadline` (epoch ms): no new action runs, then
   * producers and evaluation stop (so nothing new is recorded), the cluster
   * leaves, the API closes with its event streams (clients resume elsewhere
   * with Last-Event-ID), running actions get what is left of the time, minus
   * the kill grace, and the store closes last.
   */
  async stop(deadline = Date.now() + this.config.stopTimeoutMs): Promise<void> {
    // Consumers wind down first, while the cluster still carries what they report (failover: groups stopped).
    await this.consumers.drain();
    clearInterval(this.pruneTimer);
    const actionsStopped = this.actions.stop(Math.max(0, deadline - Date.now() - 2 * KILL_GRACE_MS));
    await this.producers.stop();
    await this.evaluator.drain();
    await this.cluster?.stop();
    this.queryHandlers?.killAll();
    withdraw(this.advert);
    await Promise.all([this.api.close(), new Promise<void>((resolve) => (this.unixServer ? this.unixServer.close(() => resolve()) : resolve()))]);
    this.monitorSources.stop();
    await actionsStopped;
    // After the last events are committed, before the store they read closes.
    await this.consumers.stop();
    this.store.close();
    this.lock.release();
  }

  /** The stop ran out of time: kill every running script's tree now (the process exits next). */
  abandon(): void {
    this.actions.killAll();
    this.queryHandlers?.killAll();
  }

  private prune(): void {
    // A running consumer's hold keeps the events it has not finished with (the MQTT outbox).
    this.store.audit.prune(auditKept);
    const removed = this.store.events.prune(this.config.events.maxCount, this.config.events.maxAgeMs, Date.now(), this.consumers.retentionFloor());
    // The raise keys of pruned events go with them (also those of events pruned before keys were).
    const keys = pruneRaiseKeys(this.store);
    if (removed > 0 || keys > 0) this.logger.info({ removed, keys }, 'pruned old events');
  }
}
