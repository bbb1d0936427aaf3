// The failover consumer: resource groups kept running on exactly one node of
// the partition that has quorum, moved when their node fails (DESIGN.md,
// "Failover consumer"). Turned on by the `failover` config key.
import { performance } from 'node:perf_hooks';
import { runScript, type ConsumerContext, type ConsumerPlugin } from '../../services/eventd/sdk/index.js';
import { controlClass } from './controls.js';
import { groupClass, nodeClass, voteClass } from './ledger.js';
import { failoverRoutes } from './routes.js';
import { failoverTickMs, FailoverRuntime, type FailoverHost } from './runtime.js';
import { actionEnvBase } from './script-env.js';
import { failoverConfigSchema, failoverSettings, ipTakeoverScript, type FailoverSettings } from './settings.js';
import { Watchdog } from './watchdog.js';

const outputLimitBytes = 16 * 1024;

/** The daemon as the failover runtime sees it: wall clock, agreed view, quorum by who is heard now, real scripts. */
function daemonHost(ctx: ConsumerContext<FailoverSettings>, watchdog: Watchdog | undefined): FailoverHost {
  return {
    node: ctx.node,
    witness: ctx.witness,
    now: () => Date.now(),
    mono: () => performance.now(),
    leaseAgeMs: () => ctx.cluster?.leaseAgeMs() ?? 0,
    silentForMs: (node) => ctx.cluster?.silentForMs(node) ?? Infinity,
    ...(watchdog ? { pet: () => watchdog.pet() } : {}),
    ...(ctx.config.fence ? { fence: (target, reason, done) => runFence(ctx, ctx.config.fence!, target, reason, done) } : {}),
    view: () => ctx.cluster?.view() ?? [ctx.node],
    hasQuorum: () => (ctx.cluster ? ctx.cluster.reachable().length * 2 > ctx.cluster.size : true),
    size: () => ctx.cluster?.size ?? 1,
    raise: (draft, order) => ctx.raise(draft, { reach: 'cluster', order }),
    run: (group, action, reason, timeoutMs, done) => {
      const script = runScript({
        run: action === 'start' ? group.start : group.stop,
        args: [action],
        env: actionEnvBase(group, action, ctx.node, reason),
        input: '',
        timeoutMs,
        outputLimitBytes,
      });
      void script.result.then((result) => {
        if (result.status !== 'ok') ctx.logger.error({ group: group.name, action, status: result.status, exitCode: result.exitCode, stderr: result.stderr }, `failover ${action} of ${group.name}: ${result.status}`);
        done(result.status === 'ok', result.status === 'ok' ? 'ok' : `${result.status}${result.exitCode === null ? '' : ` (exit ${result.exitCode})`}`);
      });
      return { kill: () => script.kill() };
    },
    // Gratuitous ARP again, by the bundled ip-takeover script (whatever the group's own start script is).
    announce: (group, reason, done) => {
      const script = runScript({ run: ipTakeoverScript, args: ['announce'], env: actionEnvBase(group, 'announce', ctx.node, reason), input: '', timeoutMs: 10_000, outputLimitBytes });
      void script.result.then((result) => {
        if (result.status !== 'ok') ctx.logger.warn({ group: group.name, status: result.status, stderr: result.stderr }, `failover ${group.name}: announcing ${group.ip?.address} failed`);
        else ctx.logger.debug({ group: group.name, reason }, `failover ${group.name}: announced ${group.ip?.address} (${reason})`);
        done();
      });
    },
    warn: (message, details) => ctx.logger.warn(details, message),
    monitor: (group) => ctx.ensureSubscription({ name: `failover-${group.name}-monitor`, ...group.monitor! }),
  };
}

/** One attempt of the fence agent against `target`. */
function runFence(ctx: ConsumerContext<FailoverSettings>, fence: { run: string; timeoutMs: number }, target: string, reason: string, done: (ok: boolean, detail: string) => void): void {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('EVENTD_')) env[key] = value;
  const script = runScript({
    run: fence.run, args: [target], env: { ...env, EVENTD_FENCE_NODE: target, EVENTD_NODE: ctx.node, EVENTD_REASON: reason }, input: '', timeoutMs: fence.timeoutMs, outputLimitBytes,
  });
  void script.result.then((result) => {
    const detail = result.status === 'ok' ? 'ok' : `${result.status}${result.exitCode === null ? '' : ` (exit ${result.exitCode})`}`;
    if (result.status !== 'ok') ctx.logger.error({ target, status: result.status, exitCode: result.exitCode, stderr: result.stderr }, `fence of ${target}: ${detail}; the takeover waits`);
    done(result.status === 'ok', detail);
  });
}

const plugin: ConsumerPlugin<FailoverSettings> = {
  name: 'failover',
  configKey: 'failover',
  // Votes and node records are the ledger's bookkeeping; the user's log shows group states and controls.
  internalClasses: [voteClass, nodeClass],
  configSchema: failoverConfigSchema,
  // A witness votes on claims even when its config names no group: claims carry the lease their votes wait out.
  witnessSection: { groups: [] },
  settings: failoverSettings,
  async start(ctx) {
    const settings = ctx.config;
    const watchdog = settings.watchdog ? new Watchdog(settings.watchdog) : undefined;
    const runtime = new FailoverRuntime(daemonHost(ctx, watchdog), settings);
    // The ledger is folded from the whole log: every FailoverGroup event is in it, in agreed order.
    const history = [];
    for (let pos = 0; ; ) {
      const batch = ctx.events.after(pos, 1000);
      if (batch.length === 0) break;
      for (const item of batch) if ([groupClass, nodeClass, voteClass, controlClass].includes(item.event.class)) history.push(item.event);
      pos = batch.at(-1)!.pos;
    }
    const unsubscribe = ctx.onEvents((items) => runtime.observe(items.map((item) => item.event)));
    runtime.start(history);
    // Each tick runs after the frames that arrived by then have been stepped: a timer fires before the
    // event loop reads its sockets, so a late tick would judge the lease on acks already waiting unread
    // (a lateness of this node's own, not its peers'). Two turns: the frames read in this turn are
    // stepped by the cluster's inbox (setImmediate), and this tick comes after them.
    let pending = false;
    const timer = setInterval(() => {
      if (pending) return;
      pending = true;
      setImmediate(() => setImmediate(() => {
        pending = false;
        runtime.tick();
      }));
    }, failoverTickMs);
    ctx.logger.info({ groups: settings.groups.map((group) => group.name), capacity: settings.capacity, watchdog: settings.watchdog?.device ?? null, witness: ctx.witness }, ctx.witness ? 'failover started as a witness: votes only' : 'failover started');
    for (const route of failoverRoutes(runtime)) ctx.routes.add(route);
    return {
      // onShutdown "stop": the groups here stop (and say so) before the daemon goes; "leave": peers take over once the lease lapses.
      drain: () => (settings.onShutdown === 'stop' ? runtime.drain() : Promise.resolve()),
      async stop() {
        unsubscribe();
        clearInterval(timer);
        runtime.stop();
        watchdog?.close();
      },
    };
  },
};

export default plugin;
