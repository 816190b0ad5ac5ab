/**
 * The `sse` load scenario: N watchers, each in a loop submitting a job that reports progress
 * (`/_admin/steps` with `Prefer: respond-async`), reading its server-sent event stream until
 * the final event, and deleting the finished job. It measures what holding many streams of
 * running jobs costs the server: events delivered per second, server CPU per event (/proc
 * stat) and server memory per watcher (VmRSS during the run over VmRSS of the idle server).
 *
 * Raw node:http, because autocannon cannot read a streamed response. The finished job is
 * deleted (`DELETE /_api/job/{id}`) so that results kept for `--job.retention` (a day by
 * default) do not pass for the memory of watchers.
 */
import { Agent, request as httpRequest, type ClientRequest } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { measureServerCpu } from './server-cpu.js';
import { readServerRssKb } from './server-memory.js';

export const SSE_SCENARIO_NAME = 'sse';

/** Steps of each watched job and the time between them: a 2 s job sending about 12 events. */
const DEFAULT_STEP_COUNT = 10;
const DEFAULT_STEP_MS = 200;
const RSS_SAMPLE_MS = 250;
/** After the run, watchers finish their current stream (uncounted); past this they are cut off. */
const DRAIN_TIMEOUT_MS = 30_000;
/** A watcher whose submit failed waits this long before the next, so a refusing server is not spun on. */
const FAILURE_PAUSE_MS = 100;
const FINAL_EVENTS = new Set(['completed', 'failed', 'cancelled']);

export interface SseLoadOptions {
  /** Base URL of the server, such as http://127.0.0.1:8529. */
  readonly url: string;
  /** Concurrent watchers; each holds one connection. */
  readonly connections: number;
  readonly durationSeconds: number;
  /** Steps of each watched `/_admin/steps` job. @defaultValue 10 */
  readonly stepCount?: number;
  /** Milliseconds between steps. @defaultValue 200 */
  readonly stepMs?: number;
  /** The server's process id: its CPU time and VmRSS are then measured (Linux /proc). */
  readonly serverPid?: number;
  /** VmRSS of the idle server in KiB, read before any load (a warm-up included); read at the start when absent. */
  readonly idleRssKb?: number;
}

export interface SseServerMemory {
  readonly idleRssKb: number;
  /** Mean of the samples taken once every watcher had its first event. */
  readonly meanRssKb: number;
  readonly peakRssKb: number;
  /** (mean - idle) / watchers: a watcher with its stream, its running job and its bookkeeping. */
  readonly kbPerWatcher: number;
}

export interface SseLoadResult {
  readonly scenario: typeof SSE_SCENARIO_NAME;
  readonly url: string;
  readonly connections: number;
  readonly jobPath: string;
  /** Measured length of the run, in seconds. */
  readonly durationSeconds: number;
  /** Events received (status-update and final ones). */
  readonly events: number;
  readonly eventsPerSecond: number;
  /** Streams that ended after a `completed` event. */
  readonly streamsCompleted: number;
  readonly streamsPerSecond: number;
  /** Unexpected answers and errors, by step. */
  readonly failures: Readonly<Record<string, number>>;
  /** Milliseconds until every watcher had received an event; null if that never happened. */
  readonly rampMs: number | null;
  /** `arangojobs_jobs` by state, scraped half-way through: how many watched jobs really ran at once. */
  readonly jobsMidRun: { readonly running: number; readonly queued: number } | undefined;
  readonly serverCpu: { readonly cpuMicros: number; readonly microsPerEvent: number; readonly cores: number } | undefined;
  readonly serverMemory: SseServerMemory | undefined;
}

interface HttpAnswer {
  status: number;
  body: string;
}

/** State shared by the watchers of one run. */
class SseRun {
  readonly baseUrl: URL;
  readonly jobPath: string;
  readonly agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  readonly active = new Set<ClientRequest>();
  readonly failures: Record<string, number> = {};
  /** Cleared at the end of the measured time: watchers then finish their stream and stop. */
  counting = true;
  events = 0;
  streamsCompleted = 0;
  watchersStreaming = 0;
  rampDoneAtMs = 0;
  readonly startedAtMs = performance.now();
  readonly connections: number;

  constructor(url: string, jobPath: string, connections: number) {
    this.baseUrl = new URL(url);
    this.jobPath = jobPath;
    this.connections = connections;
  }

  fail(step: string): void {
    if (this.counting) this.failures[step] = (this.failures[step] ?? 0) + 1;
  }

  /** One request; `onChunk` sees the body as it streams. Rejects on network errors (and when cut off). */
  send(method: string, path: string, headers: Record<string, string>, onChunk?: (chunk: string) => void): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(new URL(path, this.baseUrl), { method, headers, agent: this.agent });
      this.active.add(request);
      request.on('error', (error) => {
        this.active.delete(request);
        reject(error);
      });
      request.on('response', (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (onChunk === undefined || response.statusCode !== 200) body += chunk;
          else onChunk(chunk);
        });
        response.on('end', () => {
          this.active.delete(request);
          resolve({ status: response.statusCode ?? 0, body });
        });
      });
      request.end();
    });
  }

  cutOff(): void {
    for (const request of this.active) request.destroy();
    this.active.clear();
  }
}

/** Submit, watch until the final event, delete; again and again until the run ends. */
async function watcher(run: SseRun): Promise<void> {
  let streamedBefore = false;
  while (run.counting) {
    let step = 'submit';
    try {
      const submitted = await run.send('GET', run.jobPath, { prefer: 'respond-async' });
      if (submitted.status !== 202) {
        run.fail(`submit -> ${submitted.status}`);
        await delay(FAILURE_PAUSE_MS);
        continue;
      }
      const operationId = (JSON.parse(submitted.body) as { operationId: string }).operationId;
      step = 'stream';
      let pending = '';
      let finalEvent = '';
      const streamed = await run.send('GET', `/_api/operations/${operationId}/stream`, { accept: 'text/event-stream' }, (chunk) => {
        pending += chunk;
        let end: number;
        while ((end = pending.indexOf('\n\n')) !== -1) {
          const frame = pending.slice(0, end);
          pending = pending.slice(end + 2);
          const eventAt = frame.indexOf('event: ');
          if (eventAt === -1) continue; // a comment (the opening line, keep-alives)
          const lineEnd = frame.indexOf('\n', eventAt);
          const event = frame.slice(eventAt + 7, lineEnd === -1 ? frame.length : lineEnd);
          if (FINAL_EVENTS.has(event)) finalEvent = event;
          if (!run.counting) continue;
          run.events += 1;
          if (!streamedBefore) {
            streamedBefore = true;
            run.watchersStreaming += 1;
            if (run.watchersStreaming === run.connections) run.rampDoneAtMs = performance.now();
          }
        }
      });
      if (streamed.status !== 200) run.fail(`stream -> ${streamed.status}`);
      else if (finalEvent === 'completed') {
        if (run.counting) run.streamsCompleted += 1;
      } else run.fail(finalEvent === '' ? 'stream ended without a final event' : `stream ended ${finalEvent}`);
      step = 'delete';
      const deleted = await run.send('DELETE', `/_api/job/${operationId}`, {});
      if (deleted.status !== 200) run.fail(`delete -> ${deleted.status}`);
    } catch (error) {
      // After the measured time nothing counts, and the drain may have been cut off: stop.
      if (!run.counting) return;
      run.fail(`${step} error ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      await delay(FAILURE_PAUSE_MS);
    }
  }
}

function checkOptions(options: SseLoadOptions): void {
  const url = new URL(options.url);
  if (url.protocol !== 'http:') throw new TypeError(`url must be http://, got ${options.url}`);
  if (!Number.isInteger(options.connections) || options.connections < 1) {
    throw new TypeError(`connections must be a positive integer, got ${options.connections}`);
  }
  if (!(options.durationSeconds > 0)) throw new TypeError(`durationSeconds must be positive, got ${options.durationSeconds}`);
}

async function scrapeJobs(run: SseRun): Promise<{ running: number; queued: number } | undefined> {
  let answer: HttpAnswer;
  try {
    answer = await run.send('GET', '/_admin/metrics', {});
  } catch (error) {
    run.fail(`metrics error ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    return undefined;
  }
  if (answer.status !== 200) return undefined;
  const sample = (state: string): number => Number(new RegExp(`^arangojobs_jobs\\{state="${state}"\\} (\\S+)$`, 'm').exec(answer.body)?.[1] ?? NaN);
  return { running: sample('running'), queued: sample('queued') };
}

/**
 * Holds `connections` SSE watchers of running jobs for `durationSeconds` and reports events
 * per second, completed streams and, given the server's pid, its CPU per event and RSS per
 * watcher. At the end, watchers finish their current stream uncounted (so the server is left
 * with no jobs of this run), and are cut off after 30 s.
 */
export async function runSseLoad(options: SseLoadOptions): Promise<SseLoadResult> {
  checkOptions(options);
  const jobPath = `/_admin/steps?count=${options.stepCount ?? DEFAULT_STEP_COUNT}&ms=${options.stepMs ?? DEFAULT_STEP_MS}`;
  const pid = options.serverPid;
  const idleRssKb = pid === undefined ? undefined : options.idleRssKb ?? readServerRssKb(pid);
  const run = new SseRun(options.url, jobPath, options.connections);
  const cpuMeter = pid === undefined ? undefined : measureServerCpu(pid);
  const watchers = Array.from({ length: options.connections }, () => watcher(run));

  const rssSamples: number[] = [];
  const sampler = pid === undefined ? undefined : setInterval(() => {
    // Only once every watcher streams: the ramp (1,000 connects at once) is not the steady state.
    if (run.rampDoneAtMs !== 0) rssSamples.push(readServerRssKb(pid));
  }, RSS_SAMPLE_MS);
  const endAtMs = run.startedAtMs + options.durationSeconds * 1000;
  await delay((options.durationSeconds * 1000) / 2);
  const jobsMidRun = await scrapeJobs(run);
  await delay(Math.max(0, endAtMs - performance.now()));
  run.counting = false;
  const durationSeconds = (performance.now() - run.startedAtMs) / 1000;
  const cpuUsage = cpuMeter?.stop();
  if (sampler !== undefined) clearInterval(sampler);

  const drainTimer = setTimeout(() => run.cutOff(), DRAIN_TIMEOUT_MS);
  await Promise.all(watchers);
  clearTimeout(drainTimer);
  run.agent.destroy();

  const meanRssKb = rssSamples.length === 0 ? NaN : rssSamples.reduce((sum, value) => sum + value, 0) / rssSamples.length;
  return {
    scenario: SSE_SCENARIO_NAME,
    url: options.url,
    connections: options.connections,
    jobPath,
    durationSeconds,
    events: run.events,
    eventsPerSecond: run.events / durationSeconds,
    streamsCompleted: run.streamsCompleted,
    streamsPerSecond: run.streamsCompleted / durationSeconds,
    failures: run.failures,
    rampMs: run.rampDoneAtMs === 0 ? null : run.rampDoneAtMs - run.startedAtMs,
    jobsMidRun,
    serverCpu: cpuUsage === undefined ? undefined : {
      cpuMicros: cpuUsage.cpuMicros,
      microsPerEvent: cpuUsage.cpuMicros / run.events,
      cores: cpuUsage.cpuMicros / cpuUsage.wallMicros,
    },
    serverMemory: idleRssKb === undefined ? undefined : {
      idleRssKb,
      meanRssKb,
      peakRssKb: rssSamples.length === 0 ? NaN : Math.max(...rssSamples),
      kbPerWatcher: (meanRssKb - idleRssKb) / options.connections,
    },
  };
}
