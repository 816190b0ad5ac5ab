/**
 * Peer: what a team would write instead of this project: Fastify in front,
 * each handler run in a Piscina pool, stored results in a Map, cancellation
 * through an AbortSignal. Usage:
 *   node dist/bench/peers/fastify-piscina.js --port N [--threads N] [--cancel signal|port]
 *
 * `--cancel signal` (the default) passes the AbortSignal to piscina.run, the
 * documented way. piscina then runs such a task alone on an otherwise idle
 * worker (worker_pool isRunningAbortableTask, LeastBusyBalancer) and stops a
 * running one by terminating the worker, so at most `threads` stored jobs run
 * at once however high concurrentTasksPerWorker is: 2 threads finish at most
 * 40 stored 50 ms sleeps per second. `--cancel port` hands each stored job a
 * MessagePort instead and aborts the handler's own AbortSignal inside the
 * worker: stored jobs then share workers, at the price of a MessageChannel
 * per job (measured here: about 1.3-1.8x the CPU per stored-and-fetched job).
 */
import Fastify from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import {
  ASYNC_HEADER, ASYNC_ID_HEADER, BAD_DURATION_BODY, CANCEL_ACCEPTED_BODY, CANCELED_BODY, CANCELED_JOB,
  JOB_NOT_FOUND_BODY, JSON_CONTENT_TYPE, parseJobId, parseSleepSeconds,
} from './peer-protocol.js';
import type { JobResult, StoredJob } from './peer-protocol.js';
import type { PeerTask } from './fastify-piscina-worker.js';
import { parsePeerOptions } from './peer-options.js';

/** Asks a stored job's running or queued task to stop. */
interface Cancellable {
  readonly cancel: () => void;
}

/**
 * Tasks one worker runs at once. DESIGN.md measured piscina at 72k trivial
 * tasks/s on two threads with 64 (31k with the default of 1), and sleeping
 * jobs only await a timer, so they must not pin a thread each.
 */
const CONCURRENT_TASKS_PER_WORKER = 64;

const { port, threads, cancel: cancelMode } = parsePeerOptions(process.argv.slice(2));
const pool = new Piscina<PeerTask, JobResult>({
  filename: new URL('./fastify-piscina-worker.js', import.meta.url).href,
  minThreads: threads,
  maxThreads: threads,
  concurrentTasksPerWorker: CONCURRENT_TASKS_PER_WORKER,
});
const storedJobs = new Map<number, StoredJob<Cancellable>>();
const NOT_FOUND: JobResult = { status: 404, body: JOB_NOT_FOUND_BODY };
let lastJobId = 0;

function sendResult(reply: FastifyReply, result: JobResult): FastifyReply {
  return reply.code(result.status).header('content-type', JSON_CONTENT_TYPE).send(result.body);
}

function storeOutcome(jobId: number, result: JobResult): void {
  // A job cancelled meanwhile keeps answering 410 (or is gone, fetched), even if its task finished first.
  if (storedJobs.get(jobId)?.state !== 'pending') return;
  storedJobs.set(jobId, { state: 'done', result });
}

function storeFailure(jobId: number, error: unknown): void {
  // A cancelled task rejects with an AbortError: that is the cancel we asked for.
  if (storedJobs.get(jobId)?.state !== 'pending') return;
  // Any other failure becomes the job's result, as ArangoDB stores a failed request's
  // error response; errorNum 4 is ArangoDB's "internal error".
  const errorMessage = error instanceof Error ? error.message : String(error);
  storedJobs.set(jobId, {
    state: 'done',
    result: { status: 500, body: JSON.stringify({ error: true, code: 500, errorNum: 4, errorMessage }) },
  });
}

function logFireAndForgetFailure(error: unknown): void {
  console.error('fastify-piscina: fire-and-forget job failed', error);
}

/** Starts a stored job's task; returns how to cancel it. */
function runStoredJob(jobId: number, task: PeerTask): () => void {
  if (cancelMode === 'signal') {
    const controller = new AbortController();
    pool.run(task, { signal: controller.signal }).then(
      (result) => storeOutcome(jobId, result),
      (error: unknown) => storeFailure(jobId, error),
    );
    return () => controller.abort();
  }
  const { port1, port2 } = new MessageChannel();
  pool.run({ ...task, cancelPort: port2 }, { transferList: [port2] })
    .then(
      (result) => storeOutcome(jobId, result),
      (error: unknown) => storeFailure(jobId, error),
    )
    .finally(() => port1.close());
  return () => port1.postMessage('cancel');
}

/** Runs a task in the mode the request asks for: blocking, fire and forget, or store. */
async function submit(task: PeerTask, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const mode = request.headers[ASYNC_HEADER];
  if (mode === 'store') {
    lastJobId += 1;
    const jobId = lastJobId;
    storedJobs.set(jobId, { state: 'pending', cancel: runStoredJob(jobId, task) });
    return reply.code(202).header(ASYNC_ID_HEADER, String(jobId)).send();
  }
  if (mode === 'true') {
    pool.run(task).catch(logFireAndForgetFailure);
    return reply.code(202).send();
  }
  return sendResult(reply, await pool.run(task));
}

const VERSION_TASK: PeerTask = { route: 'version', durationSeconds: 0 };
const app = Fastify({ logger: false });

app.get('/_api/version', (request, reply) => submit(VERSION_TASK, request, reply));

app.get<{ Querystring: { duration?: string } }>('/_admin/sleep', (request, reply) => {
  const durationSeconds = parseSleepSeconds(request.query.duration);
  if (durationSeconds === undefined) return sendResult(reply, { status: 400, body: BAD_DURATION_BODY });
  return submit({ route: 'sleep', durationSeconds }, request, reply);
});

app.put<{ Params: { id: string } }>('/_api/job/:id', (request, reply) => {
  const jobId = parseJobId(request.params.id);
  const job = jobId === undefined ? undefined : storedJobs.get(jobId);
  if (jobId === undefined || job === undefined) return sendResult(reply, NOT_FOUND);
  if (job.state === 'pending') return reply.code(204).send();
  storedJobs.delete(jobId);
  if (job.state === 'canceled') return sendResult(reply, { status: 410, body: CANCELED_BODY });
  return sendResult(reply.header(ASYNC_ID_HEADER, String(jobId)), job.result);
});

app.put<{ Params: { id: string } }>('/_api/job/:id/cancel', (request, reply) => {
  const jobId = parseJobId(request.params.id);
  const job = jobId === undefined ? undefined : storedJobs.get(jobId);
  if (jobId === undefined || job === undefined) return sendResult(reply, NOT_FOUND);
  if (job.state === 'pending') {
    storedJobs.set(jobId, CANCELED_JOB);
    job.cancel();
  }
  return sendResult(reply, { status: 200, body: CANCEL_ACCEPTED_BODY });
});

await app.listen({ host: '127.0.0.1', port });
console.log(`fastify-piscina listening on http://127.0.0.1:${port} with ${threads} worker threads, cancel by ${cancelMode}`);
