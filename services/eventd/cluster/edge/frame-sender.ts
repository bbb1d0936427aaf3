// How a committed transaction's frames leave (cluster-node.ts hands them
// over after the commit): coalesced per member, events cut into pieces that
// fit a datagram (frame-batch.ts), each sealed for its member; a join to the
// seeds sealed once for every node.
import { performance } from 'node:perf_hooks';
import type { Frame } from '../core/frames.js';
import type { LeaseClock } from '../core/lease.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import { coalesce, DatagramFit, splitEvents, type Outgoing } from './frame-batch.js';
import type { Transport } from './transport.js';
import { maxDatagramBytes, type DropReason } from './udp-transport.js';

export interface FrameSenderOptions {
  transport: Transport;
  /** Where a member is (addresses are pinned by the node, see learnAddress). */
  addressOf: (name: string) => string | undefined;
  maxEventsPerFrame: number;
  leaseClock: LeaseClock;
  metrics: Metrics;
  logger: Logger;
  dropped: (reason: DropReason, address: string) => void;
}

export class FrameSender {
  private readonly datagrams = new DatagramFit(maxDatagramBytes);

  constructor(private readonly options: FrameSenderOptions) {}

  /**
   * Sends a committed step's frames. A frame to a member is sealed for it
   * alone; one frame to several seed addresses (a join) is sealed once for
   * every node and the same bytes go to each, so a copy relayed from one seed
   * to another is a replay there.
   */
  send(frames: Outgoing[]): void {
    const { transport, metrics } = this.options;
    // Keyed by content: the core makes one join object per seed.
    const seedBatches = new Map<string, { frame: Frame; addresses: string[] }>();
    for (const { to, seed, frame } of coalesce(frames, this.options.maxEventsPerFrame)) {
      if (seed) {
        const key = JSON.stringify(frame);
        const batch = seedBatches.get(key);
        if (batch) batch.addresses.push(to);
        else seedBatches.set(key, { frame, addresses: [to] });
        continue;
      }
      const address = this.options.addressOf(to);
      if (address === undefined) continue; // a member not heard from yet: its own heartbeat will teach us where it is
      // Before it leaves: the recorded time is never later than the frame's arrival (lease.ts).
      if (frame.type === 'heartbeat' && frame.beat !== undefined) this.options.leaseClock.sent(frame.beat, performance.now());
      if (frame.type === 'events') {
        for (const piece of this.datagrams.pieces(frame)) this.sendPiece(address, to, piece);
      } else {
        this.sendPiece(address, to, frame);
      }
    }
    for (const { frame, addresses } of seedBatches.values()) {
      transport.broadcast(addresses, frame);
      metrics.clusterFrames.inc({ direction: 'sent', type: frame.type }, addresses.length);
    }
  }

  /** One datagram; an events frame that did not fit after all goes as two halves. */
  private sendPiece(address: string, to: string, frame: Frame): void {
    const result = this.options.transport.send(address, to, frame);
    if (frame.type === 'events') this.datagrams.learn(frame.events.length, result.bytes);
    if (result.sent) {
      this.options.metrics.clusterFrames.inc({ direction: 'sent', type: frame.type });
      return;
    }
    if (frame.type === 'events' && frame.events.length > 1) {
      for (const half of splitEvents(frame)) this.sendPiece(address, to, half);
      return;
    }
    this.options.dropped('too-large', address);
    this.options.logger.error({ to, type: frame.type }, 'cluster frame larger than one datagram; not sent');
  }
}
