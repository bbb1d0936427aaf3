// The cluster's edge: everything the sans-IO core (cluster/core.ts) leaves
// out. Sockets (UDP, sealed frames), timers, the wall clock, SQLite, and the
// mapping of node names to addresses. Each core step runs in one SQLite
// transaction with the deliveries it makes (through the one append path,
// services/eventd/log/), and its frames leave only after that commit
// (core/store.ts, "Contract"), so a kill -9 neither loses nor repeats an
// event; a step whose transaction fails stops the daemon (fail-stop).
import { renameSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { clusterConfigDefaults, type ClusterSettings } from '../settings.js';
import { ClusterCore } from '../core/core.js';
import { parseFrame, type Json } from '../core/frames.js';
import type { CoreInput, CoreOutput } from '../core/io.js';
import { LeaseClock } from '../core/lease.js';
import type { EventDraft, EventOwner, EventRecorder } from '../../log/append.js';
import type { EventLog } from '../../log/event-log.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import type { SqliteCoreStore } from './sqlite-core-store.js';
import type { Store } from '../../store/index.js';
import type { Outgoing } from './frame-batch.js';
import { FrameSender } from './frame-sender.js';
import { FrameInbox } from './frame-inbox.js';
import { Keyring } from './keyring.js';
import type { Transport } from './transport.js';
import { UdpTransport, type DropReason, type ReceivedFrame } from './udp-transport.js';
import type { HighWater } from './replay-guard.js';
import { ReplayHighWaterStore } from './replay-high-water.js';
import type { Subscription } from '../../types.js';
import { clusterViewRecord, configuredSet } from './agreed-records.js';
import { replicatedAs, toJson, toPayload, toRecord } from './payload.js';
import { isMessage, type InboxItem, type MessageChannel } from './messages.js';

export interface Member {
  name: string;
  address: string | null;
  state: 'up' | 'down' | 'self';
  incarnation: number | null;
  lastHeardMs: number | null;
  rttMs: number | null;
}

export interface ClusterNodeOptions {
  node: string;
  settings: ClusterSettings;
  /** Where the member table is written each heartbeat, for the Node producer (a dumb reader, like /proc). */
  membersFile?: string;
  store: Store;
  coreStore: SqliteCoreStore;
  /** The one append path: each step is one of its transactions. */
  log: EventLog;
  logger: Logger;
  metrics: Metrics;
  /** The subscription an event belongs to (for its actions), if this node knows it. */
  subscription: (id: string) => Subscription | undefined;
  /** The replicated subscription map changed (null: deleted). */
  onSubscriptionChange: (id: string, value: Json | null) => void;
  /** Frames of kinds the core does not know (queries), handed on as messages.ts says. */
  messages?: MessageChannel;
}

/** The member table's file name in the data folder; producers/node reads it. */
export const membersFileName = 'cluster-members.json';

/** The pseudo-subscription of membership changes: class Node, resource = the node. */
export const membershipSubscription = { id: 'membership', name: 'membership' } as const;

/**
 * Most received frames, counted as one each and an events frame as its events,
 * stepped in one transaction (frame-inbox.ts); the rest wait for the next turn
 * of the event loop, so timers (heartbeats) and the API are never held long.
 */
export const maxFramesPerTransaction = 2048;

export class ClusterNode implements EventRecorder {
  private readonly core: ClusterCore;
  private readonly transport: Transport;
  /** Per peer: where to send, and the boot of the frame that taught us (addresses are pinned, see learnAddress). */
  private readonly addresses = new Map<string, string>();
  private readonly addressBoots = new Map<string, number>();
  private readonly highWater: ReplayHighWaterStore;
  private readonly heard = new Map<string, { at: number; incarnation: number }>();
  private readonly known = new Set<string>();
  /** Send times of own heartbeats and the peers' acks of them (failover leases), on the monotonic clock. */
  private readonly leaseClock = new LeaseClock();
  /** When each peer was last heard (any frame), on the monotonic clock: a wall clock step must not shorten a silence. */
  private readonly heardMono = new Map<string, number>();
  /** Outputs that would make this node record, held while its core is not ready (holdBack). */
  private readonly heldBack: CoreOutput[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inbox = new FrameInbox<InboxItem>(
    (batch) => this.stepFrames(batch),
    (item) => (item.frame?.type === 'events' ? Math.max(1, item.frame.events.length) : 1),
    maxFramesPerTransaction,
  );
  /** The frames of the transaction now open, sent once it has committed (one list per transaction). */
  private outbox: Outgoing[] | undefined;
  private readonly sender: FrameSender;
  address = '';

  constructor(private readonly options: ClusterNodeOptions) {
    const { settings, node } = options;
    this.core = new ClusterCore(node, {
      heartbeatMs: settings.heartbeatMs,
      suspectAfterMs: settings.suspectAfterMs,
      identityWaitMs: settings.identityWaitMs,
      // The peer list names every node, this one too: joining ourselves would be a wasted frame per round.
      seeds: settings.peers.filter((peer) => peer !== `${settings.bind.host}:${settings.bind.port}`),
      maxEventsPerFrame: clusterConfigDefaults.maxEventsPerFrame,
      pushWindowEvents: clusterConfigDefaults.pushWindowEvents,
      ...configuredSet(settings),
    }, options.coreStore);
    for (const name of this.core.view()) this.known.add(name);
    this.highWater = new ReplayHighWaterStore(options.store.db);
    this.transport = new UdpTransport({
      host: settings.bind.host,
      port: settings.bind.port,
      node,
      cluster: settings.name,
      keyring: new Keyring(settings.keys),
      boot: nextBoot(options.store),
      highWater: this.highWater.load(),
      logger: options.logger,
      onFrame: (frame) => this.receive(frame),
      onDrop: (reason, address) => this.dropped(reason, address),
      onBytes: (direction, bytes) => options.metrics.clusterBytes.inc({ direction }, bytes),
    });
    this.sender = new FrameSender({
      transport: this.transport,
      addressOf: (name) => this.addresses.get(name),
      maxEventsPerFrame: this.core.config.maxEventsPerFrame,
      leaseClock: this.leaseClock,
      metrics: options.metrics,
      logger: options.logger,
      dropped: (reason, address) => this.dropped(reason, address),
    });
  }

  async start(): Promise<string> {
    this.address = await this.transport.start();
    const tickMs = Math.max(5, Math.floor(this.options.settings.heartbeatMs / 4));
    const buffers = this.transport.bufferSizes();
    if (buffers) {
      this.options.metrics.clusterSocketBuffer.set({ direction: 'receive' }, buffers.receive);
      this.options.metrics.clusterSocketBuffer.set({ direction: 'send' }, buffers.send);
    }
    this.timer = setInterval(() => {
      this.run({ type: 'tick' });
      this.writeMembers();
    }, tickMs);
    this.run({ type: 'tick' });
    this.options.logger.info({ address: this.address, peers: this.options.settings.peers, incarnation: this.core.incarnation }, `cluster ${this.options.settings.name}: listening on udp ${this.address}`);
    if (!this.core.ready) {
      this.options.logger.warn('cluster: this node\'s store holds no cluster state; asking its peers for its last incarnation and seq before it issues any event id');
      // Bounded by the core (identityWaitMs twice: answers, then own events back).
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (this.core.ready) {
            clearInterval(check);
            resolve();
          }
        }, 10);
      });
    }
    return this.address;
  }

  /** Identity recovery after a lost store (core/identity-recovery.ts), said loudly in the log. */
  private identityChanged(output: Extract<CoreOutput, { type: 'identity' }>): void {
    const { logger } = this.options;
    const fields = { incarnation: output.incarnation, seq: output.seq, answered: output.answered };
    switch (output.stage) {
      case 'recovered':
        logger.warn(fields, output.seq > 0 || output.incarnation > 0
          ? `cluster: identity recovered from peers ${output.answered.join(', ')}: incarnation ${output.incarnation}, new events continue after seq ${output.seq}; pulling back this node's own events`
          : 'cluster: no peer knew this node: a new member, incarnation 0');
        break;
      case 'alone':
        logger.error(fields, `cluster: NO PEER ANSWERED within ${this.core.config.identityWaitMs} ms and this node's store is empty: starting at incarnation ${output.incarnation} with seq 0. If a peer holds events of this node's earlier life, event ids WILL collide: stop this node, bring its peers up and start it again`);
        break;
      case 'own-events-back':
        logger.warn(fields, `cluster: this node's own events up to seq ${output.seq} are back from its peers`);
        break;
      case 'own-events-lost':
        logger.error(fields, `cluster: some of this node's own events up to seq ${output.seq} did not come back from its peers within ${this.core.config.identityWaitMs} ms; going on without them`);
        break;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.inbox.close();
    await this.transport.close();
  }

  view(): string[] {
    return this.core.view();
  }

  /** Live entries of the replicated subscription map (restored into the registry at start). */
  subscriptions(): { id: string; value: Json }[] {
    return this.core.subscriptions();
  }

  members(): Member[] {
    const now = Date.now();
    const view = new Set(this.core.view());
    const names = new Set([...this.known, ...view, this.options.node]);
    return [...names].sort().map((name): Member => {
      if (name === this.options.node) {
        return { name, address: this.address, state: 'self', incarnation: this.core.incarnation, lastHeardMs: 0, rttMs: 0 };
      }
      const heard = this.heard.get(name);
      return {
        name,
        address: this.addresses.get(name) ?? null,
        state: view.has(name) ? 'up' : 'down',
        incarnation: heard?.incarnation ?? null,
        lastHeardMs: heard === undefined ? null : now - heard.at,
        rttMs: this.transport.rttMs(name) ?? null,
      };
    });
  }

  /** Per peer that acknowledged a heartbeat of this node, how long ago (ms) the acknowledged heartbeat left. */
  leaseAges(): Map<string, number> {
    return this.leaseClock.ages(performance.now());
  }

  /** Ms since any frame of `peer` arrived (monotonic); Infinity when none did since this process started. */
  silentForMs(peer: string): number {
    const at = this.heardMono.get(peer);
    return at === undefined ? Infinity : performance.now() - at;
  }

  private lastMembersWrite = 0;

  /** The member table for the Node producer, at most once per heartbeat; written whole and renamed, so a reader never sees half of it. */
  private writeMembers(): void {
    const file = this.options.membersFile;
    const now = Date.now();
    if (now - this.lastMembersWrite < this.options.settings.heartbeatMs) return;
    this.lastMembersWrite = now;
    const drops = this.transport.kernelDrops();
    if (drops !== undefined) this.options.metrics.clusterKernelDrops.set(drops);
    if (!file) return;
    const peers = this.members()
      .filter((member) => member.state !== 'self')
      .map((member) => ({ name: member.name, state: member.state, incarnation: member.incarnation, rttMs: member.rttMs, lastHeardAt: member.lastHeardMs === null ? null : now - member.lastHeardMs }));
    try {
      writeFileSync(file + '.tmp', JSON.stringify({ node: this.options.node, writtenAt: now, peers }));
      renameSync(file + '.tmp', file);
    } catch (error) {
      this.options.logger.warn({ err: error, file }, 'member table not written');
    }
  }

  /** The evaluator's recorder: the core gives the event its seq and HLC; deliveries fill the log. */
  record(draft: EventDraft, owner: EventOwner): string {
    const reach = owner.scope === 'local' ? 'local' : 'cluster';
    const recorded = this.stepInTransaction({ type: 'localEvent', order: owner.order, payload: toPayload(draft, reach) });
    if (recorded === undefined) throw new Error('cluster core recorded no event');
    return recorded;
  }

  putSubscription(subscription: Subscription): void {
    this.run({ type: 'subscriptionPut', id: subscription.id, value: toJson(subscription) });
  }

  deleteSubscription(id: string): void {
    this.run({ type: 'subscriptionDelete', id });
  }

  /**
   * Another kind of replicated object (a named response, a silence) in the
   * same LWW map, under a key that is never a subscription id ("response:NAME",
   * "silence:ID"); its changes come back through onSubscriptionChange.
   */
  putEntry(key: string, value: object): void {
    const json: Json = JSON.parse(JSON.stringify(value));
    this.run({ type: 'subscriptionPut', id: key, value: json });
  }

  deleteEntry(key: string): void {
    this.run({ type: 'subscriptionDelete', id: key });
  }

  /** One step in its own transaction; its effects are announced after the commit. */
  private run(input: CoreInput): void {
    this.options.log.transaction(`cluster step (${input.type})`, () => {
      return this.stepInTransaction(input);
    });
  }

  /**
   * One core step inside the caller's transaction. Deliveries go to the log
   * now (same transaction); frames leave once the caller's transaction has
   * committed, and a view change is recorded as Node events in the same step.
   * Returns the id of the event a `localEvent` input recorded.
   */
  private stepInTransaction(input: CoreInput): string | undefined {
    const { log } = this.options;
    const frames = this.openOutbox();
    let recorded: string | undefined;
    const pending: CoreOutput[] = this.core.step(input, Date.now());
    if (this.core.ready && this.heldBack.length > 0) pending.push(...this.heldBack.splice(0));
    while (pending.length > 0) {
      const output = pending.shift()!;
      switch (output.type) {
        case 'send':
          frames.push({ to: output.to, seed: false, frame: output.frame });
          break;
        case 'sendSeed':
          frames.push({ to: output.address, seed: true, frame: output.frame });
          break;
        case 'recorded':
          if (recorded === undefined && input.type === 'localEvent') recorded = `${output.event.origin}:${output.event.seq}`;
          break;
        case 'deliver': {
          const record = toRecord(output.event, this.options.node);
          if (!record) break;
          const positioned = output.position === undefined ? record : { ...record, position: output.position };
          // The log's row is the core's copy of the event when it gives the payload back whole (one insert per event).
          const replicated = replicatedAs(output.event);
          log.append(positioned, this.options.subscription(record.subscription), this.options.node, replicated);
          if (replicated !== undefined) this.options.coreStore.keptInLog(output.event.origin, output.event.seq);
          break;
        }
        case 'clusterView':
          // The same record on every node, at the same position: a configuration boundary a consumer can see.
          log.append(clusterViewRecord(this.options.settings.name, output), undefined, this.options.node);
          this.options.logger.info({ epoch: output.epoch, position: output.position, members: output.members, joined: output.joined, left: output.left },
            `cluster primary: epoch ${output.epoch.n} of ${output.epoch.leader} at position ${output.position}: ${output.members.join(', ')}`);
          break;
        case 'committed':
          this.options.metrics.clusterAgreedCommitted.set(output.position);
          break;
        case 'configuredSetDiffers':
          this.options.logger.warn({ peer: output.from, theirs: output.theirs, ours: output.ours },
            `cluster: ${output.from} is configured with another node set (cluster.peers hash ${output.theirs}, ours ${output.ours}): a majority is counted over cluster.peers and self, so every node must list the same nodes`);
          break;
        case 'viewChange':
          if (this.holdBack(output)) break;
          for (const name of [...output.up, ...output.down]) this.known.add(name);
          this.options.logger.info({ view: output.view, up: output.up, down: output.down }, `cluster view: ${output.view.join(', ')}`);
          // Each node records what it saw, for its own log only: a change is then one event on every node.
          for (const [names, state] of [[output.down, 'down'], [output.up, 'up']] as const) {
            for (const name of names) {
              if (name === this.options.node) continue;
              pending.push(...this.core.step({ type: 'localEvent', order: 'fifo', payload: toPayload(nodeEvent(name, state), 'local') }, Date.now()));
            }
          }
          break;
        case 'subscriptionChange':
          if (this.holdBack(output)) break;
          this.options.onSubscriptionChange(output.id, output.value);
          break;
        case 'leaseAck':
          this.leaseClock.acked(output.from, output.beat);
          break;
        case 'identity':
          this.identityChanged(output);
          break;
      }
    }
    return recorded;
  }

  /**
   * While the core is not ready (its own events still coming back after a
   * lost store) it records nothing: a view change (recorded as Node events)
   * and a replicated subscription (which wakes producers, whose samples are
   * recorded) wait, in order, for the first step after it is ready.
   */
  private holdBack(output: CoreOutput): boolean {
    if (this.core.ready) return false;
    this.heldBack.push(output);
    return true;
  }

  /**
   * The open transaction's outbox: every step of one transaction (a producer's
   * batch of samples, a batch of received frames) adds to it, and it is sent
   * once, after the commit, coalesced (frame-batch.ts). A failed transaction
   * is fatal: its frames are never sent.
   */
  private openOutbox(): Outgoing[] {
    if (this.outbox !== undefined) return this.outbox;
    const frames: Outgoing[] = [];
    this.outbox = frames;
    // The core's meta and progress rows, written once per transaction (before its commit, so before any frame leaves).
    this.options.coreStore.deferUntilFlush();
    this.options.log.beforeCommit(() => this.options.coreStore.flush());
    this.options.log.afterCommit(() => {
      this.outbox = undefined;
      this.sender.send(frames);
    });
    return frames;
  }

  /**
   * Received frames, one transaction for the batch (frame-inbox.ts); each stream's high-water is durable in it, before any effect is announced.
   * A message (a query frame) goes to its channel after the commit: a replay of it after a restart is refused like any frame's.
   */
  private stepFrames(batch: InboxItem[]): void {
    this.options.log.transaction(`cluster step (${batch.length} frames)`, () => {
      const highWater = new Map<string, HighWater>();
      const messages: InboxItem[] = [];
      for (const item of batch) {
        highWater.set(item.received.stream, item.received.highWater);
        if (item.frame) this.stepInTransaction({ type: 'frame', frame: item.frame });
        else messages.push(item);
      }
      for (const [stream, mark] of highWater) this.highWater.save(stream, mark);
      if (messages.length > 0) {
        this.options.log.afterCommit(() => {
          for (const { received } of messages) this.options.messages?.receive(received.from, received.body);
        });
      }
    });
  }

  /** Seals and sends a message (a query frame) to a member now: it is a request, nothing of it is persisted first. */
  sendMessage(to: string, body: { type: string }): 'sent' | 'too-large' | 'unreachable' {
    const address = to === this.options.node ? undefined : this.addresses.get(to);
    if (address === undefined) return 'unreachable';
    const result = this.transport.send(address, to, body);
    if (!result.sent) {
      this.dropped('too-large', address);
      return 'too-large';
    }
    this.options.metrics.clusterFrames.inc({ direction: 'sent', type: body.type });
    return 'sent';
  }

  /** Every member this node knows of (up or down), itself excluded. */
  peers(): string[] {
    return [...new Set([...this.known, ...this.core.view()])].filter((name) => name !== this.options.node).sort();
  }

  private receive(received: ReceivedFrame): void {
    const { from, address } = received;
    if (this.options.messages && isMessage(received.body, this.options.messages.kinds)) {
      if (received.body.from !== from) return this.dropped('malformed', address);
      this.learnAddress(from, address, received.boot);
      this.heardMono.set(from, performance.now());
      this.options.metrics.clusterFrames.inc({ direction: 'received', type: received.body.type });
      if (this.options.messages.committed.has(received.body.type)) this.inbox.push({ received });
      else this.options.messages.receive(from, received.body);
      return;
    }
    const frame = parseFrame(received.body);
    if (!frame || frame.from !== from) {
      this.dropped('malformed', address);
      return;
    }
    this.learnAddress(from, address, received.boot);
    this.heard.set(from, { at: Date.now(), incarnation: frame.incarnation });
    this.heardMono.set(from, performance.now());
    this.known.add(from);
    this.options.metrics.clusterFrames.inc({ direction: 'received', type: frame.type });
    this.inbox.push({ frame, received });
  }

  /**
   * A peer's address is pinned to its boot: the source of a datagram is not
   * authenticated, and a daemon keeps one socket for its whole life, so the
   * address moves only with a fresh authenticated frame from a newer boot of
   * the peer (a restart, which is also how it re-joins); never because some
   * address sent a frame of the boot we already know.
   */
  private learnAddress(from: string, address: string, boot: number): void {
    const known = this.addressBoots.get(from);
    if (known !== undefined && boot <= known) return;
    this.addresses.set(from, address);
    this.addressBoots.set(from, boot);
  }

  private dropped(reason: DropReason, address: string): void {
    this.options.metrics.clusterFramesDropped.inc({ reason });
    this.options.logger.debug({ reason, address }, 'cluster frame dropped');
  }
}

function nodeEvent(name: string, state: 'up' | 'down'): EventDraft {
  return {
    type: state === 'down' ? 'event' : 'rearm',
    subscription: membershipSubscription.id,
    subscriptionName: membershipSubscription.name,
    class: 'Node',
    resource: name,
    node: name,
    expr: state === 'down' ? 'state = "down"' : 'state = "up"',
    attrs: { state },
    time: new Date().toISOString(),
  };
}

/** This start's boot number: above every earlier one of this node, even if the clock stepped back. */
function nextBoot(store: Store): number {
  return store.transaction(() => {
    const last = Number(store.meta.get('cluster.boot') ?? 0);
    const boot = Math.max(Date.now(), last + 1);
    store.meta.set('cluster.boot', String(boot));
    return boot;
  });
}
