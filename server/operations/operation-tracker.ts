import type {
  JobEventData, JobEventKind, JobFailure, JobLogBatch, JobLogLine, JobResult, ReportedProgress, RetryNotice,
} from '../../engine/index.js';
import { failureAnswer } from '../errors/index.js';
import type { AttemptRecord, JobDetails, JobObserver, JobView, RunningStoredJob } from '../jobs/index.js';
import {
  finalEvent, finalEventId, nextEventId, progressView, storedProgress, type OperationEvent, type ProgressView,
} from './operation-event.js';
import { logLineView, OperationLog } from './operation-log.js';
import { operationStatus } from './operation-status.js';
import { failureProblem, finishedSummary } from './operation-summary.js';

/** Something that shows an operation's events to a client (an SSE stream, a WebSocket). */
export interface OperationWatcher {
  /** Must not throw; copes with its own backpressure (coalescing status updates). */
  push(event: OperationEvent): void;
}

/** Where final and progress events go when an operation registered a webhook. */
export interface OperationNotifier {
  /** True when `jobId` registered for events (a cheap check done for every finished job). */
  wants(jobId: number): boolean;
  notify(jobId: number, event: OperationEvent): void;
  /** The job is gone for good (fetched, deleted or expired): drop what was kept for it. */
  forget(jobId: number): void;
  /** Every job is gone at once (a superuser's `DELETE /_api/job/all`). */
  forgetAll(): void;
}

/**
 * A cluster's way to watch an operation another node runs (server/cluster/remote-watches.ts):
 * `watch` registers this node as a watcher in the shared store and says where the job is; that
 * node then forwards the job's events (`OperationTracker.relay`) until it ends, and whichever
 * node ends it has this one told (`relayEnded`).
 */
export interface RemoteWatches {
  /** `here`: this node runs it (or is about to); `queued`: no node took it yet; `elsewhere`: another node runs it; `ended`: it is over. */
  watch(jobId: number): Promise<'here' | 'queued' | 'elsewhere' | 'ended'>;
  /** This node's last watcher of the job went away. */
  unwatch(jobId: number): void;
}

/** Cancel requests kept for operations that ended (bounded: the oldest are forgotten first). */
const ENDED_MEMORY = 100_000;
/** The reason of a cancel that gave none, as the status body shows it. */
export const DEFAULT_CANCEL_REASON = 'cancelled by user';

/** The first cancel request of an operation: when, and why. */
export interface CancelRequest {
  atMs: number;
  reason: string;
}

/** A Map that forgets its oldest entries beyond `ENDED_MEMORY`. */
function remember<V>(map: Map<number, V>, key: number, value: V): void {
  map.set(key, value);
  if (map.size > ENDED_MEMORY) map.delete(map.keys().next().value!);
}

class LiveOperation {
  readonly createdAtMs: number;
  /** 0 while queued. */
  startedAtMs: number;
  lastEventId = 0;
  /** The latest report as the handler made it (stored with the job when it ends), and as shown. */
  reported: ReportedProgress | null = null;
  progress: ProgressView | null = null;
  log: OperationLog | null = null;
  /** Failed attempts before the current one, when the job ran more than once. */
  attempts: AttemptRecord[] | null = null;
  /** While the job waits out a retry's backoff: the number of the next attempt and when it starts. */
  retry: { attempt: number; nextAttemptAtMs: number } | null = null;
  /** First progress sample, for the rate behind Retry-After. */
  firstProgressAtMs = 0;
  firstProgressCurrent = 0;
  watchers: Set<OperationWatcher> | null = null;
  /** In a cluster: another node runs the job and forwards its events here. */
  remote = false;

  constructor(createdAtMs: number, startedAtMs: number) {
    this.createdAtMs = createdAtMs;
    this.startedAtMs = startedAtMs;
  }
}

/**
 * Live state of operations (every stored job is one): progress, watchers, event ids. It
 * exists only for pending jobs that report progress, are watched or are being cancelled, so
 * a million unfetched results cost nothing here; everything about a finished operation is
 * rebuilt from the job store. It never reads the store itself: the recorder tells it what it
 * needs of running jobs, and the API hands it the views it read.
 */
export class OperationTracker implements JobObserver {
  /** The stored job this process still runs (the recorder holds it until its final event). */
  readonly #runningStored: (jobId: number) => RunningStoredJob | undefined;
  readonly #live = new Map<number, LiveOperation>();
  readonly #cancelRequests = new Map<number, CancelRequest>();
  #notifier: OperationNotifier | null = null;
  #remote: RemoteWatches | null = null;
  #onLiveChange: ((jobId: number) => void) | null = null;

  constructor(runningStored: (jobId: number) => RunningStoredJob | undefined) {
    this.#runningStored = runningStored;
  }

  /**
   * A cluster node: operations other nodes run are watched through them, and `onLiveChange`
   * hears of each change of a running job's progress, log or attempts (`liveDetailsOf`), so
   * that other nodes can answer its status.
   */
  setRemote(remote: RemoteWatches, onLiveChange: (jobId: number) => void): void {
    this.#remote = remote;
    this.#onLiveChange = onLiveChange;
  }

  /** What another node shows of a pending job this one runs: its progress, log and earlier attempts; null when it has none. */
  liveDetailsOf(jobId: number): JobDetails | null {
    const live = this.#live.get(jobId);
    if (live === undefined || live.remote || this.#runningStored(jobId) === undefined) return null;
    return {
      progress: live.reported == null ? null : storedProgress(live.reported),
      warnings: null,
      logs: live.log?.stored() ?? null,
      attempts: live.attempts,
      cancel: null,
      failure: null,
    };
  }

  setNotifier(notifier: OperationNotifier): void {
    this.#notifier = notifier;
  }

  onRunning(job: RunningStoredJob, nowMs: number): void {
    const live = this.#live.get(job.jobId);
    if (live === undefined) return;
    live.startedAtMs = job.startedAtMs;
    live.retry = null;
    if (live.watchers !== null) this.#broadcast(live, this.#statusUpdate(job.jobId, live, nowMs));
  }

  onProgress(job: RunningStoredJob, progress: ReportedProgress, nowMs: number): void {
    const jobId = job.jobId;
    const live = this.#liveFor(jobId, job.createdAtMs, job.startedAtMs);
    live.reported = progress;
    live.progress = progressView(progress);
    if (live.firstProgressAtMs === 0 && live.progress.current !== null) {
      live.firstProgressAtMs = nowMs;
      live.firstProgressCurrent = live.progress.current;
    }
    const event = this.#statusUpdate(jobId, live, nowMs);
    if (live.watchers !== null) this.#broadcast(live, event);
    this.#notifier?.notify(jobId, event);
    this.#onLiveChange?.(jobId);
  }

  /** Lines the job logged: kept (bounded) until it ends, then stored with it; watchers see them as `log` events. */
  onLog(job: RunningStoredJob, batch: JobLogBatch, nowMs: number): void {
    const live = this.#liveFor(job.jobId, job.createdAtMs, job.startedAtMs);
    (live.log ??= new OperationLog()).add(batch);
    this.#onLiveChange?.(job.jobId);
    if (live.watchers === null || batch.lines.length === 0) return;
    live.lastEventId = nextEventId(live.lastEventId, live.createdAtMs, nowMs);
    this.#broadcast(live, {
      id: live.lastEventId, event: 'log', operationId: String(job.jobId), status: live.startedAtMs === 0 ? 'PENDING' : 'PROCESSING',
      progress: live.progress, timestamp: new Date(nowMs).toISOString(), data: { lines: batch.lines.map(logLineView) },
    });
  }

  /** An attempt failed and the job runs again (after `notice.delayMs`): recorded, and told as a `retrying` event. */
  onRetrying(job: RunningStoredJob, notice: RetryNotice, nowMs: number): void {
    const live = this.#liveFor(job.jobId, job.createdAtMs, job.startedAtMs);
    const attempts = (live.attempts ??= []);
    const failed: AttemptRecord = {
      attempt: attempts.length + 1, startedAtMs: job.attemptStartedAtMs, endedAtMs: nowMs, code: notice.code, message: notice.message,
      status: failureAnswer(notice).status,
    };
    attempts.push(failed);
    live.retry = { attempt: attempts.length + 1, nextAttemptAtMs: nowMs + notice.delayMs };
    live.lastEventId = nextEventId(live.lastEventId, live.createdAtMs, nowMs);
    const event: OperationEvent = {
      id: live.lastEventId, event: 'retrying', operationId: String(job.jobId), status: 'PROCESSING', progress: live.progress,
      timestamp: new Date(nowMs).toISOString(),
      data: { attempt: failed.attempt, error: attemptView(failed).error, nextAttempt: live.retry.attempt, nextAttemptAt: new Date(live.retry.nextAttemptAtMs).toISOString() },
    };
    if (live.watchers !== null) this.#broadcast(live, event);
    this.#notifier?.notify(job.jobId, event);
    this.#onLiveChange?.(job.jobId);
  }

  /**
   * What to store with the job beside its outcome, as it ends: its last progress, log, earlier
   * attempts, warnings, cancel request and how its failure described itself; null when there
   * is none of it (most jobs: one Map lookup).
   */
  detailsOf(jobId: number, kind: JobEventKind, data: JobEventData): JobDetails | null {
    const live = this.#live.get(jobId);
    const warnings = kind === 'done' ? (data as JobResult).warnings ?? null : null;
    const cancel = kind === 'cancelled' && this.#cancelRequests.size > 0 ? this.#cancelRequests.get(jobId) ?? null : null;
    const failure = kind === 'failed' ? failureOf(data as JobFailure) : null;
    if (live === undefined && warnings === null && cancel === null && failure === null) return null;
    return {
      progress: live?.reported == null ? null : storedProgress(live.reported),
      warnings: warnings === null || warnings.length === 0 ? null : [...warnings],
      logs: live?.log?.stored() ?? null,
      attempts: live?.attempts ?? null,
      cancel,
      failure,
    };
  }

  /**
   * A failed or cancelled operation runs again under its id (`POST .../retry`): its earlier
   * attempts and log carry on, with the run that just ended as one more attempt.
   */
  reopened(jobId: number, ended: JobView, details: JobDetails | null, nowMs: number): void {
    this.#live.delete(jobId);
    const cancel = this.#cancelRequests.get(jobId) ?? details?.cancel ?? null;
    this.#cancelRequests.delete(jobId);
    const live = this.#liveFor(jobId, ended.createdAtMs, 0);
    const attempts = [...(details?.attempts ?? [])];
    const cancelled = ended.state === 'cancelled';
    attempts.push({
      attempt: attempts.length + 1, startedAtMs: ended.startedAtMs, endedAtMs: ended.finishedAtMs,
      code: cancelled ? 'CANCELLED' : details?.failure?.code ?? (ended.outcome === 'timedOut' ? 'ERR_TIMED_OUT' : 'ERR_HANDLER'),
      message: cancelled ? cancel?.reason ?? DEFAULT_CANCEL_REASON : String(failureProblem(ended).detail),
      status: cancelled ? null : ended.result?.status ?? null,
    });
    live.attempts = attempts;
    if (details?.logs != null) live.log = new OperationLog([...details.logs.lines], details.logs.truncated);
    live.lastEventId = nextEventId(0, live.createdAtMs, nowMs);
  }

  /**
   * The job table recorded the job's end. True when someone is to be told (a watcher, a
   * webhook): `onFinished` then follows with the job's view. Otherwise its live state goes
   * now, and the common case costs one Map lookup.
   */
  onEnded(jobId: number): boolean {
    const live = this.#live.get(jobId);
    if (live?.watchers != null || (this.#notifier !== null && this.#notifier.wants(jobId))) return true;
    if (live !== undefined) this.#live.delete(jobId);
    return false;
  }

  /** The final event, to the watchers and the webhook of a job that `onEnded` said were waiting. */
  onFinished(jobId: number, job: JobView | undefined): void {
    const live = this.#live.get(jobId);
    if (live !== undefined) this.#live.delete(jobId);
    if (job === undefined) return; // deleted while it ran: nobody can ask for it any more
    const event = finalEvent(job, finalEventId(job, live?.lastEventId ?? 0), this.progressOf(job), finishedSummary(job));
    if (live?.watchers != null) this.#broadcast(live, event);
    if (this.#notifier !== null && this.#notifier.wants(jobId)) this.#notifier.notify(jobId, event);
  }

  /** The job table dropped `jobId` because its retention ran out (the table keeps when). */
  onExpired(jobId: number): void {
    this.#cancelRequests.delete(jobId);
  }

  /**
   * Records a cancel request and returns the first one, which is what every later request
   * reports (cancel is idempotent), also after the job stopped. Bounded like expiries.
   */
  cancelRequested(jobId: number, nowMs: number, reason = DEFAULT_CANCEL_REASON): CancelRequest {
    const first = this.#cancelRequests.get(jobId);
    if (first !== undefined) return first;
    const request = { atMs: nowMs, reason };
    remember(this.#cancelRequests, jobId, request);
    return request;
  }

  /** The first cancel request of the operation, if one came through the operations surface (or /_api/job). */
  cancelRequestOf(jobId: number): CancelRequest | undefined {
    return this.#cancelRequests.get(jobId);
  }

  /** Id of a finished operation's final event, as its stream sends it. */
  finalEventIdOf(job: JobView): number {
    return finalEventId(job, 0);
  }

  /**
   * The operation's current progress, or the last it reported before it ended (stored with it:
   * a finished one shows 10/10, a cancelled one its partial progress, its phase ended as the
   * job did); null when it never reported any.
   */
  progressOf(job: JobView): ProgressView | null {
    if (job.state === 'pending') {
      const live = this.#live.get(job.jobId)?.progress;
      if (live != null) return live;
      // Run by another node of a cluster: as it last wrote it.
      return job.details?.progress == null ? null : progressView(job.details.progress);
    }
    const stored = job.details?.progress;
    return stored == null ? null : progressView(stored, { status: operationStatus(job), atMs: job.finishedAtMs });
  }

  /** The operation's log: live while it runs, stored with it once it ended; null when it logged nothing. */
  logOf(job: JobView): { lines: readonly JobLogLine[]; truncated: boolean } | null {
    if (job.state === 'pending') {
      const log = this.#live.get(job.jobId)?.log;
      return log === undefined || log === null ? job.details?.logs ?? null : log.stored();
    }
    return job.details?.logs ?? null;
  }

  /** The attempts that failed before the current or last one; null when it ran once. */
  attemptsOf(job: JobView): readonly AttemptRecord[] | null {
    if (job.state === 'pending') return this.#live.get(job.jobId)?.attempts ?? job.details?.attempts ?? null;
    return job.details?.attempts ?? null;
  }

  /** While a pending operation waits out a retry's backoff: the next attempt's number and start. */
  retryOf(jobId: number): { attempt: number; nextAttemptAtMs: number } | null {
    return this.#live.get(jobId)?.retry ?? null;
  }

  /**
   * Seconds a poller should wait: from the progress rate when the handler reports one
   * (time left, clamped to 1-60 s), else 1 s for a queued job and 2 s for a running one.
   */
  retryAfterSeconds(job: JobView, nowMs: number): number {
    const remainingMs = this.remainingMs(job.jobId, nowMs);
    if (remainingMs !== undefined) return Math.min(60, Math.max(1, Math.ceil(remainingMs / 1000)));
    return job.startedAtMs === 0 ? 1 : 2;
  }

  /**
   * How long the operation still needs, from the rate of its progress since its first report
   * (current/total); undefined while that is unknown (no progress with a total yet, or none made).
   */
  remainingMs(jobId: number, nowMs: number): number | undefined {
    const live = this.#live.get(jobId);
    const progress = live?.progress;
    if (live === undefined || progress?.current == null || progress.total == null || live.firstProgressAtMs === 0) return undefined;
    const elapsedMs = nowMs - live.firstProgressAtMs;
    const done = progress.current - live.firstProgressCurrent;
    if (!(elapsedMs > 0 && done > 0)) return undefined;
    return Math.max(0, ((progress.total - progress.current) / done) * elapsedMs);
  }

  /**
   * Starts watching: sends what the watcher missed after `lastEventId` (the current state
   * as one coalesced update, or the final event), then every new event. Returns false when
   * the operation already finished (the final event was sent; nothing more will come), and
   * null when `job` is stale (it says pending, but the job ended since it was read): read it
   * again and call again with `trusted` set.
   */
  watch(job: JobView, watcher: OperationWatcher, lastEventId: number, nowMs: number, trusted = false): boolean | null {
    const running = job.state === 'pending' ? this.#runningStored(job.jobId) : undefined;
    if (!trusted && job.state === 'pending' && !this.#live.has(job.jobId) && running === undefined) return null;
    // The view may be older than this process's own knowledge (a store that writes the start
    // asynchronously): a job that started here shows as started.
    const live = job.state === 'pending' ? this.#liveFor(job.jobId, job.createdAtMs, job.startedAtMs || (running?.startedAtMs ?? 0)) : undefined;
    if (live === undefined) {
      const event = finalEvent(job, finalEventId(job, 0), this.progressOf(job), finishedSummary(job));
      if (event.id > lastEventId) watcher.push(event);
      return false;
    }
    if (live.lastEventId > lastEventId || lastEventId === 0) watcher.push(this.#statusUpdate(job.jobId, live, nowMs));
    (live.watchers ??= new Set()).add(watcher);
    return true;
  }

  /** `watch`, reading the job again (`reread`) when the view was stale; false also when it was removed meanwhile. */
  async watchCurrent(job: JobView, watcher: OperationWatcher, lastEventId: number, reread: () => Promise<JobView | undefined>): Promise<boolean> {
    const watching = this.watch(job, watcher, lastEventId, Date.now());
    if (watching !== null) return watching;
    if (this.#remote !== null) return this.#watchRemote(job, watcher, lastEventId, reread);
    const fresh = await reread();
    return fresh !== undefined && this.watch(fresh, watcher, lastEventId, Date.now(), true) === true;
  }

  /**
   * A pending job this node does not run, in a cluster: the watcher waits here while the node
   * that runs it forwards its events, starting with its current state; a job still queued shows
   * as PENDING now, and the node that takes it forwards from then on.
   */
  async #watchRemote(job: JobView, watcher: OperationWatcher, lastEventId: number, reread: () => Promise<JobView | undefined>): Promise<boolean> {
    const live = this.#liveFor(job.jobId, job.createdAtMs, job.startedAtMs);
    const first = live.watchers === null;
    (live.watchers ??= new Set()).add(watcher);
    if (!first) {
      // Registered already: what was forwarded so far is the current state.
      if (live.lastEventId > lastEventId || lastEventId === 0) watcher.push(this.#statusUpdate(job.jobId, live, Date.now()));
      return true;
    }
    live.remote = true;
    let where: Awaited<ReturnType<RemoteWatches['watch']>>;
    try {
      where = await this.#remote!.watch(job.jobId);
    } catch (error) {
      this.unwatch(job.jobId, watcher);
      throw error;
    }
    if (where === 'ended') {
      const fresh = await reread();
      this.relayEnded(job.jobId, fresh);
      return fresh?.state === 'pending';
    }
    // Run here after all (taken from the queue meanwhile): its events come from this engine.
    if (where === 'here') live.remote = false;
    if (where !== 'elsewhere' && live.watchers?.has(watcher) === true && (live.lastEventId > lastEventId || lastEventId === 0)) {
      watcher.push(this.#statusUpdate(job.jobId, live, Date.now()));
    }
    return true;
  }

  /**
   * An event of an operation another node runs, forwarded by that node: kept as the current
   * state (progress, started) and sent to this node's watchers. Ids are times since the job was
   * created (`nextEventId`), so they agree across nodes; one that would not increase is bumped.
   */
  relay(jobId: number, event: OperationEvent): void {
    const live = this.#live.get(jobId);
    if (live?.watchers == null || !live.remote) return;
    if (event.id <= live.lastEventId) event.id = live.lastEventId + 1;
    live.lastEventId = event.id;
    if (event.status === 'PROCESSING' && live.startedAtMs === 0) live.startedAtMs = Date.parse(event.timestamp) || Date.now();
    live.progress = event.progress;
    this.#broadcast(live, event);
  }

  /**
   * An operation another node ran has ended (`job`: as the store holds it now, undefined when it
   * was removed): its final event goes to this node's watchers. Still pending (it was re-queued
   * or retried meanwhile): they are registered again, with the node that has it now.
   */
  relayEnded(jobId: number, job: JobView | undefined): void {
    const live = this.#live.get(jobId);
    if (live?.watchers == null || !live.remote) return;
    if (job?.state === 'pending') {
      const watchers = [...live.watchers];
      this.#live.delete(jobId);
      for (const watcher of watchers) {
        this.#watchRemote(job, watcher, live.lastEventId, async () => job).catch(() => undefined);
      }
      return;
    }
    this.#live.delete(jobId);
    if (job === undefined) return;
    const event = finalEvent(job, finalEventId(job, live.lastEventId), this.progressOf(job), finishedSummary(job));
    this.#broadcast(live, event);
  }

  /**
   * In a cluster, another node's watcher (`watcher` forwards to it) of a stored job this node
   * runs: it gets the current state now, then every event, as a local watcher does.
   */
  watchHere(job: RunningStoredJob, watcher: OperationWatcher, nowMs: number): void {
    const live = this.#liveFor(job.jobId, job.createdAtMs, job.startedAtMs);
    if (live.startedAtMs === 0) live.startedAtMs = job.startedAtMs;
    (live.watchers ??= new Set()).add(watcher);
    watcher.push(this.#statusUpdate(job.jobId, live, nowMs));
  }

  /** In a cluster: a job this node's watchers watched elsewhere runs here now (taken over from a lost node). */
  runsHere(jobId: number): void {
    const live = this.#live.get(jobId);
    if (live !== undefined) live.remote = false;
  }

  unwatch(jobId: number, watcher: OperationWatcher): void {
    const live = this.#live.get(jobId);
    if (live?.watchers == null) return;
    live.watchers.delete(watcher);
    if (live.watchers.size > 0) return;
    live.watchers = null;
    if (live.remote) {
      this.#live.delete(jobId);
      this.#remote?.unwatch(jobId);
    }
  }

  /**
   * The live state of a pending stored job, created on first need (progress, a watcher, a
   * cancel): most jobs never need one, so submitting and finishing them allocates nothing here.
   */
  #liveFor(jobId: number, createdAtMs: number, startedAtMs: number): LiveOperation {
    let live = this.#live.get(jobId);
    if (live !== undefined) return live;
    live = new LiveOperation(createdAtMs, startedAtMs);
    this.#live.set(jobId, live);
    return live;
  }

  #statusUpdate(jobId: number, live: LiveOperation, nowMs: number): OperationEvent {
    live.lastEventId = nextEventId(live.lastEventId, live.createdAtMs, nowMs);
    return {
      id: live.lastEventId,
      event: 'status-update',
      operationId: String(jobId),
      status: live.startedAtMs === 0 ? 'PENDING' : 'PROCESSING',
      progress: live.progress,
      timestamp: new Date(nowMs).toISOString(),
      data: {},
    };
  }

  #broadcast(live: LiveOperation, event: OperationEvent): void {
    for (const watcher of live.watchers!) watcher.push(event);
  }
}

/** How a failed attempt shows in status bodies and `retrying` events. */
export function attemptView(attempt: AttemptRecord): { attempt: number; startedAt: string | null; endedAt: string; error: Record<string, unknown> } {
  const error: Record<string, unknown> = { code: attempt.code, message: attempt.message };
  if (attempt.status !== null) error.status = attempt.status;
  return {
    attempt: attempt.attempt,
    startedAt: attempt.startedAtMs === 0 ? null : new Date(attempt.startedAtMs).toISOString(),
    endedAt: new Date(attempt.endedAtMs).toISOString(),
    error,
  };
}

/** What a handler's error said of itself that a client deciding on a retry wants to know. */
function failureOf(failure: JobFailure): JobDetails['failure'] {
  const retryable = failure.details?.retryable;
  const retryAfterMs = failure.details?.retryAfterMs;
  return {
    code: failure.code,
    retryable: typeof retryable === 'boolean' ? retryable : null,
    retryAfterMs: typeof retryAfterMs === 'number' && retryAfterMs >= 0 ? retryAfterMs : null,
  };
}
