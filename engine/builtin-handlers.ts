import type { JobContext, JobRequest, JobResponse, RouteDefinition } from './types.js';

/**
 * ArangoDB's own endpoints that its clients call (`/_api/version`, `/_admin/time`,
 * `/_admin/sleep`, `/_admin/echo`), and ours for tests and demonstrations: a job that never
 * yields (`spin`), one that reports progress (`steps`), one that fails (`fail`), and one that
 * kills its worker (`crash`).
 */
export const routes: RouteDefinition[] = [
  { method: 'GET', path: '/_api/version', handler: version, idempotent: true },
  { method: 'GET', path: '/_admin/time', handler: time, idempotent: true },
  { method: 'GET', path: '/_admin/sleep', handler: sleep, idempotent: true },
  { method: ['POST', 'PUT'], path: '/_admin/echo', handler: echo, idempotent: true },
  { method: 'GET', path: '/_admin/spin', handler: spin },
  { method: 'GET', path: '/_admin/steps', handler: steps, idempotent: true },
  { method: 'GET', path: '/_admin/fail', handler: fail },
  { method: 'GET', path: '/_admin/crash', handler: crash },
];

/** ArangoDB's answer to a bad parameter: HTTP 400, errorNum 400 ("bad parameter"). */
class BadParameterError extends Error {
  readonly status = 400;
  readonly errorNum = 400;
}

const VERSION_BODY = { server: 'arango', version: '3.12.0', license: 'community' };

function version(): JobResponse {
  return { body: VERSION_BODY };
}

function time(): JobResponse {
  return { body: { error: false, code: 200, time: Date.now() / 1000 } };
}

async function sleep(request: JobRequest, ctx: JobContext): Promise<JobResponse> {
  const duration = numberParameter(request, 'duration', 0);
  await ctx.sleep(duration * 1000);
  return { body: { error: false, code: 200, duration } };
}

function echo(request: JobRequest): JobResponse {
  return {
    body: {
      method: request.method,
      path: request.path,
      query: Object.fromEntries(new URLSearchParams(request.query)),
      headers: request.headers,
      body: Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString('utf8'),
    },
  };
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
    ctx.progress({ current: step, total: count, phase: `step ${step + 1}`, message: `step ${step + 1} of ${count}` });
    await ctx.sleep(ms);
  }
  ctx.progress({ current: count, total: count, phase: 'done', message: `${count} steps done` });
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

function numberParameter(request: JobRequest, name: string, fallback: number): number {
  const raw = new URLSearchParams(request.query).get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new BadParameterError(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}
