export type { Appended, EventDraft, EventOwner, EventRecorder } from './append.js';
export { EventLog, type EventLogOptions } from './event-log.js';
export { LocalRecorder } from './local-recorder.js';
