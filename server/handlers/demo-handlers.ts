import type { JobContext, JobRequest, JobResponse, RouteDefinition } from '../../engine/index.js';
import { BadParameterError, numberParameter } from './arango-handlers.js';

/**
 * Routes for tests and demonstrations, mounted only with `--server.demo-handlers true`: a job
 * that never yields (`spin`), one that reports progress (`steps`), one that fails (`fail`),
 * and one that kills its worker (`crash`). Any caller of `crash` fails the jobs of everyone
 * else on that worker, and `spin` holds a thread until its grace runs out, so a production
 * server must not offer them.
 */
export const routes: RouteDefinition[] = [
  { method: 'GET', path: '/_admin/spin', handler: spin },
  { method: 'GET', path: '/_admin/steps', handler: steps, idempotent: true },
  { method: 'GET', path: '/_admin/fail', handler: fail },
  { method: 'GET', path: '/_admin/crash', handler: crash },
];

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

