import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric the daemon exports on /metrics, made once per daemon (tests run several in one process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'eventd_process_' });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  return {
    registry,
    samples: counter('eventd_samples_total', 'Samples accepted from producers', ['class']),
    samplesRejected: counter('eventd_samples_rejected_total', 'Samples dropped because they did not match the manifest', ['class']),
    producerRuns: counter('eventd_producer_runs_total', 'Producer periods run', ['class']),
    producerErrors: counter('eventd_producer_errors_total', 'Producer failures, by kind (throw, timeout, crash, garbage, exit)', ['class', 'kind']),
    evaluations: counter('eventd_evaluations_total', 'Subscription expressions evaluated against a sample', ['class']),
    evaluationErrors: counter('eventd_evaluation_errors_total', 'Evaluations that raised an error (the sample is skipped for that subscription)', ['class']),
    events: counter('eventd_events_total', 'Events written to the event log', ['type', 'class']),
    actionRuns: counter('eventd_action_runs_total', 'Action runs (scripts, webhooks, e-mails) finished, by status (ok, failed, timeout)', ['status']),
    actionFailures: counter('eventd_action_failures_total', 'Action runs that ended failed or timed out (given up, or refused by the receiver)', []),
    clusterFrames: counter('eventd_cluster_frames_total', 'Cluster frames sent and received, by type', ['direction', 'type']),
    clusterBytes: counter('eventd_cluster_bytes_total', 'Cluster datagram bytes sent and received (sealed, as on the wire)', ['direction']),
    clusterFramesDropped: counter('eventd_cluster_frames_dropped_total', 'Cluster frames refused: forged, unknown key, other cluster, malformed, too large; replays (replay, stale-boot, too-old, wrong-recipient, expired); send-error: one of ours the kernel refused to send', ['reason']),
    clusterKernelDrops: new Gauge({ name: 'eventd_cluster_udp_kernel_drops', help: 'Datagrams the kernel dropped for the cluster socket before we could read them (receive buffer full; /proc/net/udp drops)', registers: [registry] }),
    clusterSocketBuffer: new Gauge({ name: 'eventd_cluster_udp_buffer_bytes', help: 'Cluster socket buffer sizes the kernel granted', labelNames: ['direction'], registers: [registry] }),
    clusterSubscriptionsRefused: counter('eventd_cluster_subscriptions_refused_total', 'Replicated subscriptions refused because they do not fit the subscription schema', []),
    // No `late` counter any more: agreed events are delivered only at committed positions (cluster/core/sequencer.ts).
    clusterAgreedCommitted: new Gauge({ name: 'eventd_cluster_agreed_committed_position', help: 'How far this node knows the agreed sequence committed (positions)', registers: [registry] }),
    queriesAsked: counter('eventd_queries_asked_total', 'Queries this node asked (POST /v1/queries)', []),
    queryAnswers: counter('eventd_query_answers_total', 'Answers to this node\'s queries, by result (answer: the handler\'s output; error: no handler, killed, busy, not sent)', ['result']),
    queriesTimedOut: counter('eventd_queries_timed_out_total', 'Queries of this node that ended with an asked node missing (no answer within the timeout)', []),
    queryHandlerRuns: counter('eventd_query_handler_runs_total', 'Queries this node answered, by status (ok, failed, timeout, no-handler, busy)', ['status']),
    subscriptions: new Gauge({ name: 'eventd_subscriptions', help: 'Active subscriptions', registers: [registry] }),
    monitorClients: new Gauge({ name: 'eventd_monitor_clients', help: 'Live monitor clients connected (GET /v1/monitor, eventctl monitor)', registers: [registry] }),
    monitorEntriesDropped: counter('eventd_monitor_entries_dropped_total', 'Monitor entries dropped because a client read too slowly (its queue was full)', []),
    producersAwake: new Gauge({ name: 'eventd_producers_awake', help: 'Producers running because a subscription names their class', registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
