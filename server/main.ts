import { Engine } from '../engine/index.js';
import { Authenticator } from './auth/index.js';
import { HttpFront } from './front/index.js';
import { ARANGO_HANDLERS, DEMO_HANDLERS } from './handlers/index.js';
import { defaultQueuedPerUser, firstJobIdAt, JobRecorder, UserLimits } from './jobs/index.js';
import { createLogger, ServerMetrics } from './observability/index.js';
import { OperationsApi, OperationSubmit, OperationTracker, OperationWebhooks } from './operations/index.js';
import { OptionsError, parseServerOptions, renderHelp, type ServerOptions } from './options.js';
import { MemoryJobTable } from './stores/memory/index.js';
import { WebhookAllowlist, WebhookDispatcher } from './webhooks/index.js';

/** How often finished operations past their retention are removed. */
const EXPIRY_SWEEP_MS = 1000;

/** How often a draining server looks whether the results that finished meanwhile were collected. */
const DRAIN_POLL_MS = 100;

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
  const authenticator = await startupStep(() => Authenticator.load({
    enabled: options.authentication, usersFile: options.usersFile, jwtSecret: options.jwtSecret,
    maxFailuresPerAddress: options.authMaxFailuresPerAddress, maxFailuresPerUser: options.authMaxFailuresPerUser,
  }));
  const engine = await startupStep(() => Engine.start({
    threads: options.threads,
    concurrencyPerWorker: options.workerConcurrency,
    // ArangoDB's endpoints, the demonstration routes when asked for, then the operator's modules.
    handlerModules: [ARANGO_HANDLERS, ...(options.demoHandlers ? [DEMO_HANDLERS] : []), ...options.handlerModules],
    firstJobId: firstJobIdAt(Date.now()),
    maxQueuedJobs: options.maximalQueueSize,
    cancelGraceMs: options.cancelGraceMs,
    defaultTimeoutMs: options.jobTimeoutMs,
    onWorkerReplaced: (event) => logger.warn(event, 'worker replaced'),
  }));
  const metrics = new ServerMetrics(engine);
  const table = new MemoryJobTable();
  const tracker = new OperationTracker(table);
  const webhooks = createWebhooks(options, logger);
  if (webhooks !== null) tracker.setNotifier(webhooks);
  const api = new OperationsApi({
    table, engine, tracker, webhooks, retentionMs: options.retentionMs,
    cancelJob: (jobId) => metrics.timeCancel(jobId, (id) => engine.cancel(id)),
  });
  const submit = new OperationSubmit({ table, api, webhooks, retentionMs: options.retentionMs });
  const limits = new UserLimits({
    maxQueuedPerUser: options.maxQueuedPerUser ?? defaultQueuedPerUser(options.maximalQueueSize, options.authentication),
    maxStoredPerUser: options.maxStoredPerUser,
    ratePerSecond: options.rateLimit,
  });
  const recorder = new JobRecorder({ engine, table, metrics, limits });
  recorder.setObserver(tracker);
  const front = new HttpFront({
    engine, table, authenticator, authentication: options.authentication, metrics, maxBodySize: options.maxBodySize,
    operations: { api, submit, tracker }, limits, recorder,
  });
  setInterval(() => {
    const now = Date.now();
    table.expire(now, (jobId) => tracker.onExpired(jobId));
    submit.expire(now);
  }, EXPIRY_SWEEP_MS).unref();
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const deadlineMs = Date.now() + options.shutdownTimeoutMs;
    logger.info({ signal, shutdownTimeoutMs: options.shutdownTimeoutMs, ...engine.stats }, 'stopping');
    recorder.startDraining();
    engine.close(options.shutdownTimeoutMs)
      .then(() => collectDrainResults(recorder, deadlineMs))
      .then(() => {
        front.stopListening();
        return webhooks?.close();
      })
      .then(
        () => {
          // Unfetched results die with the process (memory store): say how many.
          logger.info({ droppedResults: table.size }, 'stopped');
          process.exit(0);
        },
        (error: Error) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  // Installed before the "listening" line: a supervisor may send SIGTERM as soon as it sees it.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  const port = await front.listen(options.host, options.port);
  logger.info({
    endpoint: `tcp://${options.host}:${port}`, port, threads: options.threads, routes: engine.routes.routes.length,
    authentication: options.authentication, maximalQueueSize: options.maximalQueueSize,
  }, 'listening');
}

/**
 * The drain's last part: results that finished after SIGTERM may still be fetched until the
 * shutdown deadline; the server stops as soon as all of them were (usually at once).
 */
async function collectDrainResults(recorder: JobRecorder, deadlineMs: number): Promise<void> {
  while (recorder.uncollectedDrainResults > 0 && Date.now() < deadlineMs) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_POLL_MS, deadlineMs - Date.now())));
  }
}

/** Webhooks exist once an operator allows targets; signing them then needs a secret. */
function createWebhooks(options: ServerOptions, logger: ReturnType<typeof createLogger>): OperationWebhooks | null {
  if (options.webhookAllow.length === 0) return null;
  if (options.webhookSecret === undefined) {
    process.stderr.write('error: --webhook.allow needs --webhook.secret (receivers verify deliveries with it)\n');
    process.exit(EXIT_BAD_OPTIONS);
  }
  let allowlist: WebhookAllowlist;
  try {
    allowlist = WebhookAllowlist.parse(options.webhookAllow);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_WEBHOOK_CONFIG') throw error;
    process.stderr.write(`error: --webhook.allow: ${(error as Error).message}\n`);
    process.exit(EXIT_BAD_OPTIONS);
  }
  return new OperationWebhooks(new WebhookDispatcher({
    allowlist,
    secret: options.webhookSecret,
    maxAttempts: options.webhookMaxAttempts,
    timeoutMs: options.webhookTimeoutMs,
    maxConcurrent: options.webhookMaxConcurrent,
    maxPerHost: options.webhookMaxPerHost,
    maxQueued: options.webhookMaxQueued,
    logger,
  }));
}

/**
 * Runs a start-up step whose failure is the operator's to fix (a missing users file or
 * handler module, a handler module without routes): one clear line and exit code 2, not a
 * stack trace.
 */
async function startupStep<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_BAD_USERS_FILE' || code === 'ERR_ENGINE_OPTIONS' || code === 'ERR_MODULE_NOT_FOUND' || code === 'ENOENT') {
      const message = (error as Error).message;
      // A handler module that cannot be imported names itself; say which option brought it.
      const option = code === 'ERR_MODULE_NOT_FOUND' || code === 'ENOENT' || code === 'ERR_ENGINE_OPTIONS' ? '--server.handlers: ' : '';
      process.stderr.write(`error: ${message.startsWith('--') ? '' : option}${message}\n`);
      process.exit(EXIT_BAD_OPTIONS);
    }
    throw error;
  }
}

main(process.argv.slice(2)).catch((error: Error) => {
  process.stderr.write(`fatal: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
