import type { ServerProcess } from '../load/index.js';
import { setTimeout as delay } from 'node:timers/promises';
import { EventStream, EventTimeoutError, type StreamEvent } from './event-stream.js';
import { CLUSTER_PREFIX, NODE_IDS } from './our-cluster.js';
import type { RedisInfo } from './redis-info.js';

/** 30 s of cooperative sleep (`ctx.sleep`): only the cancel ends it within a sample. */
const LONG_JOB_PATH = '/_admin/sleep?duration=30';
const STEP_TIMEOUT_MS = 5_000;
/**
 * A job starts within milliseconds of its submit; a stream opened while it was still PENDING
 * that has no PROCESSING event by then missed it (seen here: a race in the server, the job runs
 * but its stream never says so), and the sample goes on once the status endpoint says PROCESSING.
 */
const PROCESSING_EVENT_WAIT_MS = 250;
const STATUS_POLL_MS = 2;
/** Samples that fail (no event in time, a wrong answer) before the part gives up. */
const MAX_FAILED_SAMPLES = 5;
const FINAL_EVENTS: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

export interface CancelAcrossNodes {
  readonly samples: number;
  /** From sending `PUT /_api/job/ID/cancel` at one node to the `cancelled` event on the stream of the node running the job. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** From sending the cancel to its 200 (the cancel recorded in Redis and sent to the running node's inbox). */
  readonly cancelAnswerP99Ms: number;
  /** Samples whose job ran at node-b though submitted to node-a (taken through the shared queue): cancelled at node-a then, streamed from node-a by forwarding. */
  readonly ranOnOtherNode: number;
  /** Samples whose stream, opened while the job was PENDING, never sent PROCESSING (the status endpoint said so instead; a server race). */
  readonly missedProcessingEvents: number;
  readonly failedSamples: number;
  readonly failures: readonly string[];
  readonly bar: number;
}

/** The value below which `fraction` of the sorted samples fall (nearest rank). */
function percentile(sorted: readonly number[], fraction: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)];
}

async function nextUntil(stream: EventStream, wanted: (event: StreamEvent) => boolean, what: string, timeoutMs: number): Promise<StreamEvent> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const event = await stream.next(Math.max(0, deadline - performance.now()));
    if (event === undefined) throw new Error(`the stream ended before ${what}`);
    if (wanted(event)) return event;
    if (FINAL_EVENTS.has(event.event)) throw new Error(`the stream ended with ${event.event} before ${what}`);
  }
}

interface Sample {
  readonly cancelledMs: number;
  readonly answeredMs: number;
  readonly ranAt: string;
  /** The stream sent no PROCESSING event: the status endpoint said so instead. */
  readonly missedProcessingEvent: boolean;
}

/** Waits on `stream` for PROCESSING; true if it never came and the status endpoint said so instead. */
async function awaitProcessing(stream: EventStream, statusUrl: string): Promise<boolean> {
  try {
    await nextUntil(stream, (event) => event.data.status === 'PROCESSING', 'PROCESSING', PROCESSING_EVENT_WAIT_MS);
    return false;
  } catch (error) {
    if (!(error instanceof EventTimeoutError)) throw error;
  }
  const deadline = performance.now() + STEP_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const status = await (await fetch(statusUrl, { signal: AbortSignal.timeout(STEP_TIMEOUT_MS) })).json() as { status?: string };
    if (status.status === 'PROCESSING') return true;
    await delay(STATUS_POLL_MS);
  }
  throw new Error(`${statusUrl} not PROCESSING after ${STEP_TIMEOUT_MS} ms`);
}

/**
 * One sample: a long job stored at node A (an idle node runs its own submissions), A's SSE
 * stream of it watched until PROCESSING, the node running it read from Redis (`n` of its job
 * hash), then the cancel sent at the other node, timed until the stream's `cancelled` event.
 */
async function sample(submitAt: ServerProcess, nodes: readonly ServerProcess[], info: RedisInfo): Promise<Sample> {
  const submit = await fetch(`${submitAt.url}${LONG_JOB_PATH}`, { headers: { 'x-arango-async': 'store' }, signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  await submit.arrayBuffer();
  const jobId = submit.headers.get('x-arango-async-id');
  if (submit.status !== 202 || jobId === null) throw new Error(`submit answered ${submit.status} without a job id`);
  const stream = await EventStream.open(`${submitAt.url}/_api/operations/${jobId}/stream`, STEP_TIMEOUT_MS);
  try {
    const missedProcessingEvent = await awaitProcessing(stream, `${submitAt.url}/_api/operations/${jobId}`);
    const ranAt = await info.hashField(`${CLUSTER_PREFIX}:j:${jobId}`, 'n');
    if (ranAt === null) throw new Error(`job ${jobId} is PROCESSING but has no node in Redis`);
    const cancelAt = nodes[ranAt === NODE_IDS[0] ? 1 : 0];
    const sentAt = performance.now();
    // Settles either way (a failed request becomes status 0), as it is awaited only after the event.
    const answer = fetch(`${cancelAt.url}/_api/job/${jobId}/cancel`, { method: 'PUT', signal: AbortSignal.timeout(STEP_TIMEOUT_MS) }).then(
      async (response) => ({ status: response.status, body: await response.text(), at: performance.now() }),
      (error: Error) => ({ status: 0, body: error.message, at: performance.now() }),
    );
    await nextUntil(stream, (event) => event.event === 'cancelled', 'cancelled', STEP_TIMEOUT_MS);
    const cancelledAt = performance.now();
    const { status, body, at } = await answer;
    if (status !== 200) throw new Error(`cancel at ${cancelAt.name} answered ${status}: ${body.slice(0, 200)}`);
    const fetched = await fetch(`${submitAt.url}/_api/job/${jobId}`, { method: 'PUT', signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
    await fetched.arrayBuffer();
    if (fetched.status !== 410) throw new Error(`fetching the cancelled job answered ${fetched.status}, expected 410`);
    return { cancelledMs: cancelledAt - sentAt, answeredMs: at - sentAt, ranAt, missedProcessingEvent };
  } finally {
    stream.close();
  }
}

/** `count` sequential samples, jobs submitted to the first node. */
export async function measureCancelAcrossNodes(nodes: readonly ServerProcess[], info: RedisInfo, count: number, bar: number): Promise<CancelAcrossNodes> {
  const cancelled: number[] = [];
  const answered: number[] = [];
  const failures: string[] = [];
  let ranOnOtherNode = 0;
  let missedProcessingEvents = 0;
  while (cancelled.length < count) {
    try {
      const result = await sample(nodes[0], nodes, info);
      cancelled.push(result.cancelledMs);
      answered.push(result.answeredMs);
      if (result.ranAt !== NODE_IDS[0]) ranOnOtherNode += 1;
      if (result.missedProcessingEvent) missedProcessingEvents += 1;
    } catch (error) {
      failures.push((error as Error).message);
      if (failures.length >= MAX_FAILED_SAMPLES) throw new Error(`${failures.length} cancel samples failed: ${failures.join('; ')}`);
    }
  }
  cancelled.sort((left, right) => left - right);
  answered.sort((left, right) => left - right);
  return {
    samples: cancelled.length,
    p50Ms: percentile(cancelled, 0.5),
    p99Ms: percentile(cancelled, 0.99),
    maxMs: cancelled[cancelled.length - 1],
    cancelAnswerP99Ms: percentile(answered, 0.99),
    ranOnOtherNode,
    missedProcessingEvents,
    failedSamples: failures.length,
    failures,
    bar,
  };
}
