import type { JobContext, JobRequest, JobResponse, RouteDefinition } from '../../engine/index.js';
import { BadParameterError, numberParameter } from './arango-handlers.js';

/**
 * Routes for tests and demonstrations, mounted only with `--server.demo-handlers true`: a job
 * that never yields (`spin`), one that reports progress (`steps`), one that fails (`fail`),
 * one that kills its worker (`crash`), a report in three phases with a log and warnings
 * (`report`), and a call that fails its first attempts and is retried (`flaky`). Any caller of `crash` fails the jobs of everyone
 * else on that worker, and `spin` holds a thread until its grace runs out, so a production
 * server must not offer them.
 */
export const routes: RouteDefinition[] = [
  { method: 'GET', path: '/_admin/spin', handler: spin },
  { method: 'GET', path: '/_admin/steps', handler: steps, idempotent: true },
  { method: 'GET', path: '/_admin/fail', handler: fail },
  { method: 'GET', path: '/_admin/crash', handler: crash },
  { method: ['GET', 'POST'], path: '/_admin/report', handler: report, name: 'REPORT_GENERATION', idempotent: true },
  {
    method: ['GET', 'POST'], path: '/_admin/flaky', handler: flaky, name: 'FLAKY_CALL', idempotent: true,
    retry: { attempts: 3, delayMs: 200, maxDelayMs: 2000 },
  },
];

const REPORT_PHASES = ['VALIDATION', 'DATA_PROCESSING', 'REPORT_GENERATION'];

/**
 * The seed's multi-phase report: validates, processes `records` records in batches of 10
 * (`ms` each), generates; logs each phase (and `lines` more lines, to see the log's bounds),
 * and warns about `missing` records without an email, which makes it COMPLETED_WITH_ERRORS.
 */
async function report(request: JobRequest, ctx: JobContext): Promise<JobResponse> {
  const records = numberParameter(request, 'records', 100);
  const ms = numberParameter(request, 'ms', 20);
  const missing = numberParameter(request, 'missing', 0);
  const lines = numberParameter(request, 'lines', 0);
  ctx.progress({ phase: 'VALIDATION', phases: REPORT_PHASES, current: 0, total: records, message: 'Validating the request' });
  ctx.log('validating', { records });
  await ctx.sleep(ms);
  for (let line = 0; line < lines; line++) ctx.log(`detail line ${line + 1}`, { line: line + 1 });
  ctx.progress({ phase: 'DATA_PROCESSING', current: 0, total: records, message: 'Processing customer records' });
  ctx.log('processing', { records });
  for (let done = 0; done < records; done = Math.min(records, done + 10)) {
    ctx.progress({ phase: 'DATA_PROCESSING', current: done, total: records, message: 'Processing customer records' });
    await ctx.sleep(ms);
  }
  ctx.progress({ phase: 'REPORT_GENERATION', current: records, total: records, message: 'Generating the report' });
  ctx.log('generating');
  await ctx.sleep(ms);
  if (missing > 0) ctx.warn({ code: 'MISSING_DATA', message: 'Some customer records were missing email addresses', affectedRecords: missing });
  ctx.log('done', { records, missing });
  return { body: { reportId: `rpt-${ctx.jobId}`, url: `/reports/rpt-${ctx.jobId}`, records } };
}

/**
 * A call to a service that is down for its first `failures` attempts (a retryable 503, which
 * says after how long with `retryAfterMs`); with `retryable=false` the error says retrying is
 * no use. Its route retries up to 3 attempts in all.
 */
function flaky(request: JobRequest, ctx: JobContext): JobResponse {
  const failures = numberParameter(request, 'failures', 1);
  const retryable = new URLSearchParams(request.query).get('retryable') !== 'false';
  const retryAfterMs = new URLSearchParams(request.query).get('retryAfterMs');
  ctx.log(`attempt ${ctx.attempt + 1}`);
  if (ctx.attempt < failures) {
    throw Object.assign(new Error('External service temporarily unavailable'), {
      status: 503, retryable, ...(retryAfterMs === null ? {} : { retryAfterMs: Number(retryAfterMs) }),
    });
  }
  return { body: { error: false, code: 200, attempts: ctx.attempt + 1 } };
}

/** Busy for `duration` seconds without a checkpoint: only terminating its worker stops it. */
function spin(request: JobRequest): JobResponse {
  const duration = numberParameter(request, 'duration', 1);
  const end = Date.now() + duration * 1000;
  let iterations = 0;
  while (Date.now() < end) iterations++;
  return { body: { error: false, code: 200, iterations } };
}

async function steps(request: JobRequest, ctx: JobContext): Promise<JobResponse> {
  const count = numberParameter(request, 'count', 5);
  const ms = numberParameter(request, 'ms', 100);
  for (let step = 0; step < count; step++) {
    ctx.progress({ current: step, total: count, message: `step ${step + 1} of ${count}` });
    await ctx.sleep(ms);
  }
  ctx.progress({ current: count, total: count, message: `${count} steps done` });
  return { body: { error: false, code: 200, steps: count } };
}

function fail(request: JobRequest): JobResponse {
  const status = numberParameter(request, 'status', 500);
  if (!Number.isInteger(status) || status < 400 || status > 599) throw new BadParameterError('status must be an HTTP error status (400-599)');
  throw Object.assign(new Error(`failed on purpose with status ${status}`), { status });
}

function crash(): JobResponse {
  // In a worker thread this ends the thread, not the process: the engine must replace it.
  process.exit(70);
}

