export { ActionDispatcher, DEFAULT_STOP_GRACE_MS, type ActionDispatcherOptions } from './dispatcher.js';
export { MAX_ENV_VALUE_BYTES, actionEnv, upperSnake } from './env.js';
export { runScript, KILL_GRACE_MS, OUTPUT_DRAIN_MS, type ScriptOptions, type ScriptResult, type ScriptRun } from './run-script.js';
