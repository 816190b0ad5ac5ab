/**
 * Handlers for the engine's tests, loaded beside the built-in ones. Each shows one behaviour a
 * user's handler may have: cooperative or stubborn under cancellation, large bodies, faults.
 * Handlers that must prove whether they ran write a marker file into the `dir` query parameter.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setTimeout as delay } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import type { JobContext, JobRequest, JobResponse, RouteDefinition } from '../index.js';

export const routes: RouteDefinition[] = [
  { method: 'GET', path: '/fixture/hold', handler: hold, idempotent: true },
  { method: 'GET', path: '/fixture/hold-once', handler: hold },
  { method: 'GET', path: '/fixture/hold-with-deadline', handler: hold, timeoutMs: 200 },
  { method: 'GET', path: '/fixture/hold-without-deadline', handler: hold, timeoutMs: 0 },
  { method: 'GET', path: '/fixture/checkpoint-loop', handler: checkpointLoop },
  { method: 'GET', path: '/fixture/spin', handler: spin },
  { method: 'GET', path: '/fixture/carry-on', handler: carryOn },
  { method: 'GET', path: '/fixture/carry-on-sync', handler: carryOnSync },
  { method: 'GET', path: '/fixture/mark', handler: mark },
  { method: 'GET', path: '/fixture/async-quick', handler: asyncQuick },
  { method: 'GET', path: '/fixture/big-response', handler: bigResponse },
  { method: 'GET', path: '/fixture/cached-big-response', handler: cachedBigResponse },
  { method: 'POST', path: '/fixture/echo-bytes', handler: echoBytes },
  { method: 'GET', path: '/fixture/out-of-memory', handler: allocateUntilOutOfMemory },
  { method: 'GET', path: '/fixture/progress-burst', handler: progressBurst },
  { method: 'GET', path: '/fixture/throw-plain', handler: throwPlain },
  { method: 'GET', path: '/fixture/throw-undescribable', handler: throwUndescribable },
  { method: 'GET', path: '/fixture/throw-with-status', handler: throwWithStatus },
  { method: 'GET', path: '/fixture/throw-in-timer', handler: throwInTimer },
  { method: 'GET', path: '/fixture/unencodable-body', handler: unencodableBody },
  { method: 'GET', path: '/fixture/unencodable-header', handler: unencodableHeader },
  { method: 'GET', path: '/fixture/odd-progress', handler: oddProgress },
  { method: 'GET', path: '/fixture/return-nothing', handler: returnNothing },
  { method: 'GET', path: '/fixture/array-buffer-bytes', handler: arrayBufferBytes },
  { method: 'GET', path: '/fixture/reports', handler: reports },
  { method: 'GET', path: '/fixture/fail-then-succeed', handler: failThenSucceed, retry: { attempts: 3, delayMs: 20, jitter: false } },
  { method: 'GET', path: '/fixture/fail-slowly-retried', handler: failThenSucceed, retry: { attempts: 3, delayMs: 60_000 } },
];

/** Byte `index` of the deterministic pattern that large bodies carry. */
export function patternByte(index: number): number {
  return (index * 31 + (index >>> 11) + 7) & 0xff;
}

export function patternBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index++) bytes[index] = patternByte(index);
  return bytes;
}

function query(request: JobRequest, name: string): string | null {
  return new URLSearchParams(request.query).get(name);
}

function numberQuery(request: JobRequest, name: string, fallback: number): number {
  const raw = query(request, name);
  return raw === null ? fallback : Number(raw);
}

/** Writes `<dir>/<jobId>-<label>` when the request names a directory. */
function writeMarker(request: JobRequest, ctx: JobContext, label: string): void {
  const dir = query(request, 'dir');
  if (dir !== null) writeFileSync(join(dir, `${ctx.jobId}-${label}`), String(ctx.attempt));
}

function whoAmI(ctx: JobContext): Record<string, string> {
  return { 'x-thread-id': String(threadId), 'x-attempt': String(ctx.attempt) };
}

/** Awaits `ms` (default 60 s) with ctx.sleep, then answers which thread ran it. */
async function hold(request: JobRequest, ctx: JobContext): Promise<JobResponse> {
  writeMarker(request, ctx, 'started');
  await ctx.sleep(numberQuery(request, 'ms', 60_000));
  return { headers: whoAmI(ctx), body: 'held' };
}

/** Never yields; only `ctx.checkpoint()` (called every iteration) can stop it before `ms`. */
function checkpointLoop(request: JobRequest, ctx: JobContext): JobResponse {
  writeMarker(request, ctx, 'started');
  const end = Date.now() + numberQuery(request, 'ms', 30_000);
  let iterations = 0;
  while (Date.now() < end) {
    ctx.checkpoint();
    iterations++;
  }
  return { body: { iterations } };
}

/** Like `/_admin/spin` (never yields, no checkpoint), but says when it has started. */
function spin(request: JobRequest, ctx: JobContext): JobResponse {
  writeMarker(request, ctx, 'started');
  const end = Date.now() + numberQuery(request, 'ms', 60_000);
  let iterations = 0;
  while (Date.now() < end) iterations++;
  return { body: { iterations } };
}

/** Catches its termination, carries on for `ms`, and returns a result that must be discarded. */
async function carryOn(request: JobRequest, ctx: JobContext): Promise<JobResponse> {
  writeMarker(request, ctx, 'started');
  try {
    await ctx.sleep(60_000);
  } catch {
    // Deliberately ignores the termination: this is the handler the engine must overrule.
  }
  await delay(numberQuery(request, 'ms', 50));
  writeMarker(request, ctx, 'carried-on');
  return { body: 'result of a cancelled job' };
}

/** The synchronous variant: swallows the checkpoint's throw and returns normally. */
function carryOnSync(request: JobRequest, ctx: JobContext): JobResponse {
  writeMarker(request, ctx, 'started');
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    try {
      ctx.checkpoint();
    } catch {
      writeMarker(request, ctx, 'carried-on');
      return { body: 'result of a cancelled job' };
    }
  }
  return { body: 'never cancelled' };
}

/** Records that it ran. */
function mark(request: JobRequest, ctx: JobContext): JobResponse {
  writeMarker(request, ctx, 'ran');
  return { headers: whoAmI(ctx), body: 'marked' };
}

/** An async handler that returns after `awaits` microtask turns and no real wait. */
async function asyncQuick(request: JobRequest): Promise<JobResponse> {
  const awaits = numberQuery(request, 'awaits', 0);
  for (let turn = 0; turn < awaits; turn++) await null;
  return { body: 'quick' };
}

function bigResponse(request: JobRequest): JobResponse {
  return { body: patternBytes(numberQuery(request, 'bytes', 10 * 1024 * 1024)) };
}

let cachedBody: Uint8Array | undefined;

/** Answers the same module-level body every time, as a handler caching a static file would. */
function cachedBigResponse(): JobResponse {
  cachedBody ??= patternBytes(10 * 1024 * 1024);
  return { body: cachedBody };
}

/** Returns the request body, with its length as seen by the handler in a header. */
function echoBytes(request: JobRequest): JobResponse {
  return { headers: { 'x-request-bytes': String(request.body.byteLength) }, body: request.body };
}

function allocateUntilOutOfMemory(): JobResponse {
  const chunks: number[][] = [];
  for (;;) chunks.push(new Array(100_000).fill(chunks.length));
}

/** Reports `count` progress steps in one synchronous burst, then ends. */
function progressBurst(request: JobRequest, ctx: JobContext): JobResponse {
  const count = numberQuery(request, 'count', 10_000);
  for (let step = 1; step <= count; step++) ctx.progress({ current: step, total: count });
  return { body: 'burst' };
}

function throwPlain(): JobResponse {
  throw new Error('plain failure');
}

/** Throws a value whose description itself throws (no prototype: no toString). */
function throwUndescribable(): JobResponse {
  throw Object.create(null);
}

function throwWithStatus(): JobResponse {
  throw Object.assign(new Error("I'm a teapot"), { status: 418, errorNum: 1234 });
}

/** Schedules an uncaught exception in a timer (outside any job), then waits to be killed by it. */
async function throwInTimer(_request: JobRequest, ctx: JobContext): Promise<JobResponse> {
  setTimeout(() => {
    throw new Error('uncaught in a timer');
  }, 10);
  await ctx.sleep(60_000);
  return { body: 'survived' };
}

function unencodableBody(): JobResponse {
  const cycle: Record<string, unknown> = { name: 'cycle' };
  cycle.self = cycle;
  return { body: cycle };
}

function unencodableHeader(): JobResponse {
  return { headers: { 'x-broken': { toString: () => { throw new Error('no string for you'); } } as unknown as string } };
}

/** Reports progress with a cycle, a BigInt and an unknown field beside the documented ones. */
async function oddProgress(_request: JobRequest, ctx: JobContext): Promise<JobResponse> {
  const report: Record<string, unknown> = { current: 1, message: 'odd', total: 10n ** 30n, extra: 'ignored' };
  report.self = report;
  ctx.progress(report as never);
  await ctx.sleep(100);
  return { body: 'reported' };
}

function returnNothing(): JobResponse {
  return undefined as unknown as JobResponse;
}

/** Bytes of ArrayBuffers this worker holds after a full garbage collection. */
function arrayBufferBytes(): JobResponse {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return { body: { arrayBuffers: process.memoryUsage().arrayBuffers } };
}

/**
 * Logs (`lines` lines, cut to the log's bounds), names phases (declared A, B, C; passes through
 * A and B), and warns (`warnings` times, once more through the response, and once with a value
 * that is no warning at all).
 */
async function reports(request: JobRequest, ctx: JobContext): Promise<JobResponse> {
  const query = new URLSearchParams(request.query);
  const lines = Number(query.get('lines') ?? '3');
  const warnings = Number(query.get('warnings') ?? '1');
  ctx.progress({ phase: 'A', phases: ['A', 'B', 'C'], current: 0, total: 2 });
  await delay(5);
  ctx.progress({ phase: 'B', current: 1, total: 2 });
  for (let line = 0; line < lines; line++) ctx.log(`line ${line}`, { line, cyclic: globalThis, big: 10n as unknown as number, ok: true });
  for (let warning = 0; warning < warnings; warning++) ctx.warn({ code: 'W', message: `warning ${warning}`, affected: warning });
  ctx.warn(undefined as never);
  await delay(5);
  return { body: { done: true }, warnings: [{ code: 'FROM_RESPONSE', message: 'returned with the response' }] };
}

/** Fails with a retryable error while `ctx.attempt` < `failures` (default 2); `retryable=false` says a retry is no use. */
function failThenSucceed(request: JobRequest, ctx: JobContext): JobResponse {
  const query = new URLSearchParams(request.query);
  const failures = Number(query.get('failures') ?? '2');
  if (ctx.attempt < failures) throw Object.assign(new Error(`attempt ${ctx.attempt} failed`), { status: 503, retryable: query.get('retryable') !== 'false' });
  return { body: { attempt: ctx.attempt } };
}
