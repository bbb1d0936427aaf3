// The plugin SDK: the only module of the daemon that producers/ and
// consumers/ import (a lint rule keeps it so). Everything a plugin needs,
// and nothing of the daemon's wiring: types, the error vocabulary, script
// runs, durations, the producer kit and the plugin contracts.
export type { Attrs, AttrValue, EventRecord, EventType, Order, RawSample, Sample, ProducerManifest } from '../types.js';
export { EventdError, isEventdError, type ErrorCode } from '../errors.js';
export { runScript, type ScriptOptions, type ScriptResult, type ScriptRun } from '../actions/run-script.js';
export { parseDuration } from '../duration.js';
export { readOptional } from '../producers/kit.js';
export type { Logger } from '../logger.js';
export type { FeedItem } from '../event-feed.js';
export type { EventDraft } from '../log/append.js';
export { redactUrl } from './redact.js';
export type { GroupList, GroupStatus } from '../api/responses.js';
export type {
  ConfigSchema,
  ConsumerPlugin,
  ConsumerContext,
  ConsumerCluster,
  ConsumerCursor,
  ConsumerEventLog,
  ConsumerRequest,
  ConsumerRoute,
  ConsumerRoutes,
  ConsumerSubscriptionSpec,
  ConsumerThresholdState,
  RunningConsumer,
} from '../consumers/contract.js';
