import type { JobContext, JobRequest, JobResponse, RouteDefinition } from '../../engine/index.js';

/**
 * A handler module of the server's own: ArangoDB's endpoints that its clients call
 * (`/_api/version`, `/_admin/time`, `/_admin/sleep`, `/_admin/echo`), loaded ahead of the
 * operator's modules. The demonstration routes are in demo-handlers.ts.
 */
export const routes: RouteDefinition[] = [
  // Any method, as ArangoDB's version handler answers (its manual's async examples use PUT).
  { method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], path: '/_api/version', handler: version, idempotent: true },
  { method: 'GET', path: '/_admin/time', handler: time, idempotent: true },
  { method: 'GET', path: '/_admin/sleep', handler: sleep, idempotent: true },
  { method: ['POST', 'PUT'], path: '/_admin/echo', handler: echo, idempotent: true },
];

/** ArangoDB's answer to a bad parameter: HTTP 400, errorNum 400 ("bad parameter"). */
export class BadParameterError extends Error {
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

export function numberParameter(request: JobRequest, name: string, fallback: number): number {
  const raw = new URLSearchParams(request.query).get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new BadParameterError(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}
