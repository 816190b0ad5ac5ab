import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Engine } from '../engine/index.js';
import { Authenticator } from './auth/index.js';
import { DashboardAssets, HttpFront } from './front/index.js';
import { ARANGO_HANDLERS, DEMO_HANDLERS } from './handlers/index.js';
import { defaultQueuedPerUser, JobRecorder, recoverUnfinishedJobs, rerunStoredJob, UserLimits, type JobStore } from './jobs/index.js';
import { createLogger, JobLog, ServerMetrics } from './observability/index.js';
import { OperationsApi, OperationSubmit, OperationTracker, OperationWebhooks, storedRequestOf } from './operations/index.js';
import { OptionsError, parseServerOptions, renderHelp, type ServerOptions } from './options.js';
import { ClusterIds, ClusterNode, ClusterWatches } from './cluster/index.js';
import { LmdbJobStore } from './stores/lmdb/index.js';
import { RedisJobStore } from './stores/redis/index.js';
import { MemoryJobStore } from './stores/memory/index.js';
import { WebhookAllowlist, WebhookDispatcher } from './webhooks/index.js';

/** How often finished operations past their retention are removed. */
const EXPIRY_SWEEP_MS = 1000;

/** How often a draining server looks whether the results that finished meanwhile were collected. */
const DRAIN_POLL_MS = 100;

/** Exit code for a bad command line, as documented in --help. */
const EXIT_BAD_OPTIONS = 2;

/** Exit code when the durable store's directory cannot be used (locked, newer format, corrupt). */
const EXIT_STORE_UNUSABLE = 1;

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
  if (options.clusterRedis !== undefined && options.databaseDirectory !== undefined) {
    process.stderr.write('error: --cluster.redis and --database.directory exclude each other: a cluster keeps its jobs in Redis\n');
    process.exit(EXIT_BAD_OPTIONS);
  }
  const logger = createLogger(options.logLevel);
  /** Jobs outlive this process: in LMDB, or in the cluster's Redis. */
  const durable = options.databaseDirectory !== undefined || options.clusterRedis !== undefined;
  const authenticator = await startupStep(() => Authenticator.load({
    enabled: options.authentication, usersFile: options.usersFile, jwtSecret: options.jwtSecret,
    maxFailuresPerAddress: options.authMaxFailuresPerAddress, maxFailuresPerUser: options.authMaxFailuresPerUser,
  }));
  const store = await openStore(options, logger);
  const recovery = await store.recover();
  // A cluster's stored jobs take ids from the shared counter; the engine's own ids (blocking and
  // fire-and-forget jobs, never seen by another node) count from 1, far below them.
  const clusterIds = store instanceof RedisJobStore ? await ClusterIds.start(store.connection, store.prefix) : null;
  const engine = await startupStep(() => Engine.start({
    threads: options.threads,
    concurrencyPerWorker: options.workerConcurrency,
    // ArangoDB's endpoints, the demonstration routes when asked for, then the operator's modules.
    handlerModules: [ARANGO_HANDLERS, ...(options.demoHandlers ? [DEMO_HANDLERS] : []), ...options.handlerModules],
    // Above every id the store ever recorded: ids never repeat, across restarts too.
    firstJobId: clusterIds === null ? store.firstJobId(Date.now()) : 1,
    externalJobIds: clusterIds !== null,
    maxQueuedJobs: options.maximalQueueSize,
    cancelGraceMs: options.cancelGraceMs,
    defaultTimeoutMs: options.jobTimeoutMs,
    onWorkerReplaced: (event) => logger.warn(event, 'worker replaced'),
    // Workers log the start of each job of a route that is not idempotent before its handler
    // runs: after a crash, one that may have run is failed rather than run twice.
    startLogDirectory: store.startLogDirectory ?? undefined,
  }));
  const metrics = new ServerMetrics(engine);
  const jobLog = new JobLog(logger, options.logJobs || options.logLevel === 'debug' || options.logLevel === 'trace');
  const webhooks = createWebhooks(options, logger);
  const limits = new UserLimits({
    maxQueuedPerUser: options.maxQueuedPerUser ?? defaultQueuedPerUser(options.maximalQueueSize, options.authentication),
    maxStoredPerUser: options.maxStoredPerUser,
    ratePerSecond: options.rateLimit,
  });
  const recorder = new JobRecorder({
    engine, store, metrics, limits,
    onStoreError: (error, jobId) => logger.error({ err: error, jobId }, 'the job store refused a write: the job\'s outcome was not kept'),
    resumesAfterRestart: durable,
    jobLog,
  });
  const tracker = new OperationTracker((jobId) => recorder.runningStored(jobId));
  recorder.setObserver(tracker);
  if (webhooks !== null) {
    tracker.setNotifier(webhooks);
    // Every way a job leaves the store (fetch, DELETE /_api/job/..., expiry) ends its webhook
    // registration and retries; subscribed only with webhooks, so that a fetch costs nothing more.
    store.onRemoved((jobId) => (jobId === null ? webhooks.forgetAll() : webhooks.forget(jobId)));
    if (durable) {
      webhooks.persistIn(store, (error) => logger.error({ err: error }, 'the job store refused a webhook event'));
    }
    for (const { jobId, webhook } of recovery.webhooks) webhooks.register(jobId, webhook);
    for (const event of recovery.webhookEvents) webhooks.resume(event);
  }
  /** The engine's cancel: recorded, logged, timed by the metrics; false when the engine no longer held the job. */
  const cancelLocal = (jobId: number, reason: string): boolean => {
    recorder.cancelRequested(jobId);
    jobLog.cancelRequested(jobId, reason);
    return metrics.timeCancel(jobId, (id) => engine.cancel(id));
  };
  let clusterNode: ClusterNode | null = null;
  /** A client's cancel, from either surface; in a cluster, a job this engine does not hold is cancelled where it is. */
  const cancelJob = (jobId: number, reason: string): boolean => {
    if (cancelLocal(jobId, reason)) return true;
    clusterNode?.cancelElsewhere(jobId, reason).catch((error: Error) => logger.warn({ err: error, jobId }, 'could not pass a cancel on to the job\'s node'));
    return false;
  };
  const api = new OperationsApi({
    store, engine, tracker, webhooks, retentionMs: options.retentionMs,
    cancelJob,
    rerun: (jobId, createdAtMs, request) => rerunStoredJob(engine, recorder, jobId, createdAtMs, request),
    sharedIds: clusterIds !== null,
  });
  const submit = new OperationSubmit({ store, api, webhooks, retentionMs: options.retentionMs });
  const front = new HttpFront({
    engine, store, authenticator, authentication: options.authentication, metrics, maxBodySize: options.maxBodySize,
    operations: { api, submit, tracker }, limits, recorder, jobLog, cancelJob,
    storedJobId: clusterIds === null ? undefined : () => clusterIds.take(),
    shareStored: clusterIds === null ? undefined : () => clusterNode !== null && !clusterNode.hasFreeCapacity(),
    shareFire: store instanceof RedisJobStore ? (request) => store.shareFire(storedRequestOf(request)) : undefined,
    dashboard: new DashboardAssets(),
  });
  if (recovery.unfinished.length > 0) {
    const recovered = await recoverUnfinishedJobs(recovery.unfinished, engine, recorder);
    logger.info(recovered, 'unfinished jobs of the last run picked up');
  }
  if (store instanceof RedisJobStore) {
    const watches = new ClusterWatches({ store, tracker, recorder, logger });
    tracker.setRemote(watches, (jobId) => watches.liveChanged(jobId));
    clusterNode = await ClusterNode.start({
      store, engine, recorder, url: options.clusterRedis!, capacity: options.threads * options.workerConcurrency, cancelLocal, watches,
      registerWebhook: (jobId, webhook) => webhooks?.register(jobId, webhook), logger,
    });
  }
  let sweeping = false;
  setInterval(() => {
    if (sweeping) return; // a slow store: one sweep at a time
    sweeping = true;
    store.expire(Date.now(), (jobId) => {
      tracker.onExpired(jobId);
      jobLog.expired(jobId);
    }).then(
      () => { sweeping = false; },
      (error: Error) => {
        sweeping = false;
        logger.error({ err: error }, 'expiry sweep failed');
      },
    );
  }, EXPIRY_SWEEP_MS).unref();
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const deadlineMs = Date.now() + options.shutdownTimeoutMs;
    logger.info({ signal, shutdownTimeoutMs: options.shutdownTimeoutMs, ...engine.stats }, 'stopping');
    recorder.startDraining();
    // Takes no more work from the shared queue: the other nodes run it.
    void clusterNode?.close();
    engine.close(options.shutdownTimeoutMs)
      // A durable store keeps the results that finished meanwhile: no need to wait for their clients.
      .then(() => (!durable ? collectDrainResults(recorder, deadlineMs) : undefined))
      .then(() => {
        front.stopListening();
        return webhooks?.close();
      })
      .then(() => store.close())
      .then(
        () => {
          // Unfetched results die with the process unless the store is durable: say how many.
          if (!durable) logger.info({ droppedResults: store.size }, 'stopped');
          else if (options.clusterRedis !== undefined) logger.info({ cluster: options.clusterRedis }, 'stopped');
          else logger.info({ keptResults: store.size, directory: options.databaseDirectory }, 'stopped');
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

  let port: number;
  try {
    port = await front.listen(options.host, options.port);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_LISTEN') throw error;
    // One clear line and exit code 1, as for a store that cannot be used.
    process.stderr.write(`error: --server.endpoint: ${(error as Error).message}\n`);
    process.exit(1);
  }
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
  while ((await recorder.uncollectedDrainResults()) > 0 && Date.now() < deadlineMs) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_POLL_MS, deadlineMs - Date.now())));
  }
}

/**
 * The job store the options ask for: in memory, durable in `--database.directory`, or the
 * cluster's in `--cluster.redis`. A directory the store cannot use (held by another server,
 * written by a newer version, corrupt) or a Redis that cannot be reached is one clear line and
 * exit code 1, never a stack trace.
 */
async function openStore(options: ServerOptions, logger: ReturnType<typeof createLogger>): Promise<JobStore> {
  if (options.clusterRedis !== undefined) {
    const nodeId = options.clusterNodeId ?? (options.port === 0 ? `${hostname()}:pid${process.pid}` : `${options.host}:${options.port}`);
    return unusableStore('--cluster.redis', () => RedisJobStore.open({
      url: options.clusterRedis!, prefix: options.clusterPrefix, nodeId, maxSharedQueue: options.maximalQueueSize, nodeHeader: true,
      onConnectionError: (error) => logger.error({ err: error }, 'lost the connection to Redis: requests that need it answer 503 until it is back'),
    }));
  }
  if (options.databaseDirectory === undefined) return new MemoryJobStore();
  return unusableStore('--database.directory', () => LmdbJobStore.open({ directory: options.databaseDirectory!, waitForSync: options.databaseWaitForSync }));
}

async function unusableStore<T>(option: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_STORE_')) {
      process.stderr.write(`error: ${option}: ${(error as Error).message}\n`);
      process.exit(EXIT_STORE_UNUSABLE);
    }
    throw error;
  }
}

/** Webhooks exist once an operator allows targets; signing them then needs a secret. */
function createWebhooks(options: ServerOptions, logger: ReturnType<typeof createLogger>): OperationWebhooks | null {
  if (options.webhookAllow.length === 0) return null;
  if (options.webhookSecret === undefined) badWebhookOption('--webhook.allow needs --webhook.secret (receivers verify deliveries with it)');
  let ca: string | undefined;
  try {
    if (options.webhookCa !== undefined) ca = readFileSync(options.webhookCa, 'utf8');
  } catch (error) {
    badWebhookOption(`--webhook.ca: cannot read ${options.webhookCa}: ${(error as Error).message}`);
  }
  try {
    return new OperationWebhooks(new WebhookDispatcher({
      allowlist: WebhookAllowlist.parse(options.webhookAllow),
      secret: options.webhookSecret,
      allowHttp: options.webhookAllowHttp,
      ca,
      maxAttempts: options.webhookMaxAttempts,
      timeoutMs: options.webhookTimeoutMs,
      maxConcurrent: options.webhookMaxConcurrent,
      maxPerHost: options.webhookMaxPerHost,
      maxQueued: options.webhookMaxQueued,
      logger,
    }));
  } catch (error) {
    // A malformed --webhook.allow entry, a whsec_ secret that is not base64, a CA file without a
    // certificate: the operator's to fix, reported in one line (each message names its option).
    if ((error as { code?: unknown }).code !== 'ERR_WEBHOOK_CONFIG') throw error;
    badWebhookOption((error as Error).message);
  }
}

function badWebhookOption(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(EXIT_BAD_OPTIONS);
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
