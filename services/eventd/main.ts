import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { readConfigFile, type ConfigOverrides } from './config.js';
import { loadConfig } from './config-load.js';
import { Daemon, version } from './daemon.js';
import { isEventdError } from './errors.js';
import { createLogger } from './logger.js';

const usage = `usage: eventd [--config FILE] [--node NAME] [--port PORT] [--data-dir DIR] [--witness]

  --config FILE    JSON config, validated against schemas/config.schema.json
  --node NAME      this node's name (default: the hostname)
  --port PORT      local API port (default 7070, on 127.0.0.1)
  --data-dir DIR   where the SQLite store lives (default ./.eventd)
  --witness        a voter only: no producers, no failover groups (config: witness)
  --version, --help`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      node: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      witness: { type: 'boolean' },
      help: { type: 'boolean' },
      version: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return void console.log(usage);
  if (values.version) return void console.log(version);

  const overrides: ConfigOverrides = {};
  if (values.node !== undefined) overrides.node = values.node;
  if (values['data-dir'] !== undefined) overrides.dataDir = values['data-dir'];
  if (values.witness) overrides.witness = true;
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: "${values.port}" is not a port number`);
    overrides.port = port;
  }
  const raw = values.config === undefined ? {} : readConfigFile(values.config);
  const baseDir = values.config === undefined ? process.cwd() : dirname(values.config);
  const config = await loadConfig(raw, overrides, baseDir, values.config ?? 'config');

  const logger = createLogger(config.log.level, config.node);
  // A promise nobody handled is a bug whose state nobody knows: stop, loudly (fail-stop).
  // The same for a throw nobody caught: the fatal line names it (EX_SOFTWARE), not a bare stack on stderr.
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'stopping: unhandled rejection');
    process.exit(70);
  });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, `stopping: uncaught exception (${error.message})`);
    process.exit(70);
  });
  const daemon = await Daemon.start(config, logger);
  const address = await daemon.listen();
  logger.info({ address, dataDir: config.dataDir, version }, `eventd listening on ${address}`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const deadline = Date.now() + config.stopTimeoutMs;
    logger.info({ signal, stopTimeoutMs: config.stopTimeoutMs }, 'stopping');
    // The whole stop is bounded: past stopTimeout, scripts are killed and the process exits anyway.
    setTimeout(() => {
      logger.error({ stopTimeoutMs: config.stopTimeoutMs }, 'stop took longer than stopTimeout; killing running scripts and exiting');
      daemon.abandon();
      process.exit(1);
    }, config.stopTimeoutMs).unref();
    daemon.stop(deadline).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

class UsageError extends Error {}

main().catch((error: unknown) => {
  if (isEventdError(error) || error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`eventd: ${(error as Error).message}`);
    if (!isEventdError(error)) console.error(usage);
    process.exit(2);
  }
  console.error('eventd: failed to start:', error);
  process.exit(1);
});
