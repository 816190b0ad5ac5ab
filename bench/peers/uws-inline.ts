/**
 * Peer: a plain uWebSockets.js server that answers every request inline on
 * its one thread. It bounds what the HTTP front can do: jobs "run" inline,
 * sleeps are timers, stored results sit in a Map. Usage:
 *   node dist/bench/peers/uws-inline.js --port N
 */
import uWS from 'uWebSockets.js';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import {
  ASYNC_HEADER, ASYNC_ID_HEADER, BAD_DURATION_BODY, CANCEL_ACCEPTED_BODY, CANCELED_BODY, CANCELED_JOB,
  JOB_NOT_FOUND_BODY, JSON_CONTENT_TYPE, parseJobId, parseSleepSeconds, sleepResult, versionResult,
} from './peer-protocol.js';
import type { JobResult, StoredJob } from './peer-protocol.js';
import { parsePeerOptions } from './peer-options.js';

/** A blocking sleep, whose timer may outlive the client's connection. */
interface PendingSleep {
  readonly res: HttpResponse;
  readonly durationSeconds: number;
  aborted: boolean;
  timer: NodeJS.Timeout | undefined;
}

const STATUS_LINES: Readonly<Record<number, string>> = {
  200: '200 OK', 202: '202 Accepted', 204: '204 No Content', 400: '400 Bad Request', 404: '404 Not Found', 410: '410 Gone',
};
const NOT_FOUND: JobResult = { status: 404, body: JOB_NOT_FOUND_BODY };

const storedJobs = new Map<number, StoredJob<{ readonly timer: NodeJS.Timeout }>>();
let lastJobId = 0;

/**
 * Writes a whole response from inside a route handler. These replies skip
 * onAborted and an explicit cork: uWS corks a handler's synchronous part
 * itself and cannot abort the request before the handler returns (uWS docs
 * on HttpResponse.onAborted and cork); adding both anyway cost about 1.5 µs
 * of CPU per request here (about 10%). Replies from timers go through
 * writeSleepResult, which has both.
 */
function writeResponse(res: HttpResponse, result: JobResult, jobId: number | undefined): void {
  res.writeStatus(STATUS_LINES[result.status] ?? `${result.status} Unknown`).writeHeader('content-type', JSON_CONTENT_TYPE);
  if (jobId !== undefined) res.writeHeader(ASYNC_ID_HEADER, String(jobId));
  res.end(result.body);
}

function writeSleepResult(sleep: PendingSleep): void {
  if (sleep.aborted) return;
  sleep.res.cork(() => writeResponse(sleep.res, sleepResult(sleep.durationSeconds), undefined));
}

function abortSleep(this: PendingSleep): void {
  this.aborted = true;
  clearTimeout(this.timer);
}

function nextJobId(): number {
  lastJobId += 1;
  return lastJobId;
}

function acceptStored(res: HttpResponse, jobId: number): void {
  res.writeStatus(STATUS_LINES[202]).writeHeader(ASYNC_ID_HEADER, String(jobId)).end();
}

function acceptFireAndForget(res: HttpResponse): void {
  res.writeStatus(STATUS_LINES[202]).end();
}

function finishSleepJob(jobId: number, durationSeconds: number): void {
  // Cancel clears this timer and a fetch leaves pending jobs alone, so the job is still pending here.
  storedJobs.set(jobId, { state: 'done', result: sleepResult(durationSeconds) });
}

function onVersion(res: HttpResponse, req: HttpRequest): void {
  const mode = req.getHeader(ASYNC_HEADER);
  if (mode === 'store') {
    const jobId = nextJobId();
    storedJobs.set(jobId, { state: 'done', result: versionResult() });
    acceptStored(res, jobId);
  } else if (mode === 'true') {
    // Fire and forget still runs the job; its result is dropped.
    versionResult();
    acceptFireAndForget(res);
  } else {
    writeResponse(res, versionResult(), undefined);
  }
}

function onSleep(res: HttpResponse, req: HttpRequest): void {
  const durationSeconds = parseSleepSeconds(req.getQuery('duration'));
  if (durationSeconds === undefined) {
    writeResponse(res, { status: 400, body: BAD_DURATION_BODY }, undefined);
    return;
  }
  const durationMs = durationSeconds * 1000;
  const mode = req.getHeader(ASYNC_HEADER);
  if (mode === 'store') {
    const jobId = nextJobId();
    storedJobs.set(jobId, { state: 'pending', timer: setTimeout(finishSleepJob, durationMs, jobId, durationSeconds) });
    acceptStored(res, jobId);
  } else if (mode === 'true') {
    setTimeout(sleepResult, durationMs, durationSeconds);
    acceptFireAndForget(res);
  } else {
    const sleep: PendingSleep = { res, durationSeconds, aborted: false, timer: undefined };
    res.onAborted(abortSleep.bind(sleep));
    sleep.timer = setTimeout(writeSleepResult, durationMs, sleep);
  }
}

function onFetchJob(res: HttpResponse, req: HttpRequest): void {
  const jobId = parseJobId(req.getParameter(0));
  const job = jobId === undefined ? undefined : storedJobs.get(jobId);
  if (jobId === undefined || job === undefined) {
    writeResponse(res, NOT_FOUND, undefined);
  } else if (job.state === 'pending') {
    // 204 carries no body and, per RFC 9110, no Content-Length either.
    res.writeStatus(STATUS_LINES[204]).endWithoutBody();
  } else {
    storedJobs.delete(jobId);
    if (job.state === 'canceled') writeResponse(res, { status: 410, body: CANCELED_BODY }, undefined);
    else writeResponse(res, job.result, jobId);
  }
}

function onCancelJob(res: HttpResponse, req: HttpRequest): void {
  const jobId = parseJobId(req.getParameter(0));
  const job = jobId === undefined ? undefined : storedJobs.get(jobId);
  if (jobId === undefined || job === undefined) {
    writeResponse(res, NOT_FOUND, undefined);
    return;
  }
  if (job.state === 'pending') {
    clearTimeout(job.timer);
    storedJobs.set(jobId, CANCELED_JOB);
  }
  writeResponse(res, { status: 200, body: CANCEL_ACCEPTED_BODY }, undefined);
}

function onUnknownRoute(res: HttpResponse): void {
  writeResponse(res, NOT_FOUND, undefined);
}

const { port } = parsePeerOptions(process.argv.slice(2));
uWS.App()
  .get('/_api/version', onVersion)
  .get('/_admin/sleep', onSleep)
  .put('/_api/job/:id/cancel', onCancelJob)
  .put('/_api/job/:id', onFetchJob)
  .any('/*', onUnknownRoute)
  .listen('127.0.0.1', port, (listenSocket) => {
    if (listenSocket === false) throw new Error(`uws-inline: cannot listen on 127.0.0.1:${port}`);
    console.log(`uws-inline listening on http://127.0.0.1:${port}`);
  });
