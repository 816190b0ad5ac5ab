import type { JobView } from '../jobs/index.js';
import { ERRORS } from '../errors/index.js';
import { problemOf, type Problem } from './problem.js';

const SUMMARY_BODY_LIMIT = 64 * 1024;

export function operationLinks(jobId: number): Record<string, string> {
  const self = `/_api/operations/${jobId}`;
  return { self, cancel: `${self}/cancel`, stream: `${self}/stream`, result: `${self}/result`, logs: `${self}/logs` };
}

/**
 * What a finished job's events and webhooks carry: for a completed job its status, the URL of
 * its result, and the result itself when it is JSON of modest size; for a failed one the
 * error as a problem; for a cancelled one nothing more.
 */
export function finishedSummary(job: JobView): Record<string, unknown> {
  if (job.state === 'cancelled') return {};
  const result = job.result!;
  if (job.outcome !== 'completed' && job.outcome !== 'completedWithErrors') return { error: failureProblem(job) };
  const summary: Record<string, unknown> = { status: result.status, url: operationLinks(job.jobId).result };
  const json = jsonBody(job);
  if (json !== undefined) summary.body = json;
  // The seed's partial failure: what went wrong rides with the result.
  if (job.details?.warnings != null) summary.warnings = job.details.warnings;
  return { result: summary };
}

/** A failed job's error: its ArangoDB error body turned into a problem (RFC 9457). */
export function failureProblem(job: JobView): Problem {
  const result = job.result!;
  const body = jsonBody(job) as { errorMessage?: unknown; errorNum?: unknown } | undefined;
  const detail = typeof body?.errorMessage === 'string' ? body.errorMessage : `the job answered HTTP ${result.status}`;
  const timedOut = job.outcome === 'timedOut';
  const row = timedOut ? ERRORS.timedOut : ERRORS.operationFailed;
  const failure = job.details?.failure;
  return problemOf(result.status, row.type, row.title, detail, {
    instance: `/_api/operations/${job.jobId}`,
    ...(typeof body?.errorNum === 'number' ? { errorNum: body.errorNum } : {}),
    // The seed's retry policy example: whether running it again may help, and after how many seconds.
    ...(failure?.retryable != null ? { retryable: failure.retryable } : timedOut ? { retryable: true } : {}),
    ...(failure?.retryAfterMs != null ? { retryAfter: Math.ceil(failure.retryAfterMs / 1000) } : {}),
  });
}

function jsonBody(job: JobView): unknown {
  const result = job.result;
  if (result === null || result.body === null || result.body.byteLength > SUMMARY_BODY_LIMIT) return undefined;
  let contentType = '';
  for (let i = 0; i + 1 < result.headers.length; i += 2) if (result.headers[i] === 'content-type') contentType = result.headers[i + 1];
  if (!contentType.startsWith('application/json')) return undefined;
  try {
    return JSON.parse(Buffer.from(result.body.buffer, result.body.byteOffset, result.body.byteLength).toString('utf8'));
  } catch (error) {
    if (error instanceof SyntaxError) return undefined; // a handler's malformed JSON stays reachable at /result
    throw error;
  }
}
