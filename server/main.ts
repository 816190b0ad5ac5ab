import { Engine } from '../engine/index.js';
import { Authenticator } from './auth.js';
import { HttpFront } from './http-front.js';
import { createLogger } from './logger.js';
import { MemoryJobTable } from './memory-job-table.js';
import { ServerMetrics } from './metrics.js';
import { OptionsError, parseServerOptions, renderHelp, type ServerOptions } from './options.js';

/** Exit code for a bad command line, as documented in --help. */
const EXIT_BAD_OPTIONS = 2;

async function main(argv: readonly string[]): Promise<void> {
  let options: ServerOptions | 'help';
  try {
    options = parseServerOptions(argv);
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    process.stderr.write(`error: ${error.message}\nTry --help for the list of options.\n`);
    process.exit(EXIT_BAD_OPTIONS);
  }
  if (options === 'help') {
    process.stdout.write(renderHelp());
    return;
  }
  const logger = createLogger(options.logLevel);
  const authenticator = await Authenticator.load({ enabled: options.authentication, usersFile: options.usersFile, jwtSecret: options.jwtSecret });
  const engine = await Engine.start({
    threads: options.threads,
    concurrencyPerWorker: options.workerConcurrency,
    handlerModules: options.handlerModules,
    maxQueuedJobs: options.maximalQueueSize,
    cancelGraceMs: options.cancelGraceMs,
    defaultTimeoutMs: options.jobTimeoutMs,
    onWorkerReplaced: (event) => logger.warn(event, 'worker replaced'),
  });
  const metrics = new ServerMetrics(engine);
  const front = new HttpFront({
    engine, table: new MemoryJobTable(), authenticator, authentication: options.authentication, metrics, maxBodySize: options.maxBodySize,
  });
  const port = await front.listen(options.host, options.port);
  logger.info({
    endpoint: `tcp://${options.host}:${port}`, port, threads: options.threads, routes: engine.routes.routes.length,
    authentication: options.authentication, maximalQueueSize: options.maximalQueueSize,
  }, 'listening');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, shutdownTimeoutMs: options.shutdownTimeoutMs, ...engine.stats }, 'stopping');
    front.stopListening();
    engine.close(options.shutdownTimeoutMs).then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: Error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((error: Error) => {
  process.stderr.write(`fatal: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
