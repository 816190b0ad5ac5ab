/** A request as the engine receives it from its embedder (the HTTP server, a test, a script). */
export interface SubmitRequest {
  method: string;
  /** Path without query string, e.g. `/_api/version`. */
  path: string;
  /** Raw query string without `?` ('' when none). */
  query: string;
  /** Flat list of lower-case names and values: `[name, value, name, value, ...]`. */
  headers: string[];
  body: Uint8Array | null;
  /** Who submits the job, as the embedder authenticated them; handlers see it as `ctx.user`. */
  user?: JobUser | null;
}

/** The authenticated caller a job runs for, as its embedder names them. */
export interface JobUser {
  readonly name: string;
  /** May see and manage every user's jobs. */
  readonly superuser: boolean;
}

/** What a handler receives. */
export interface JobRequest {
  method: string;
  path: string;
  query: string;
  /** Lower-case header names. A repeated header keeps its last value. */
  headers: Record<string, string>;
  /** Path parameters of the matched route (`/items/:id` gives `{ id }`). */
  params: Record<string, string>;
  /** Request body bytes (empty when there was none). */
  body: Uint8Array;
}

/** What a handler returns. A plain object or array body is sent as JSON. */
export interface JobResponse {
  /** HTTP status; default 200. */
  status?: number;
  headers?: Record<string, string>;
  body?: Uint8Array | string | object | null;
  /** Warnings of a job that did its work only in part, as `ctx.warn` reports them. */
  warnings?: readonly JobWarning[];
}

/**
 * Something that went wrong without failing the job (records skipped, a fallback used): the
 * operation then ends COMPLETED_WITH_ERRORS. `message` is required; `code` and other fields
 * with string, number or boolean values (such as `affectedRecords`) travel as given.
 */
export interface JobWarning {
  code?: string;
  message: string;
  [field: string]: string | number | boolean | undefined;
}

/** One `ctx.log` line. */
export interface JobLogLine {
  /** Epoch milliseconds. */
  atMs: number;
  message: string;
  /** The call's `fields` with string, number, boolean or null values; null when none. */
  fields: Readonly<Record<string, string | number | boolean | null>> | null;
}

/** Log lines of one job since its previous batch; `dropped` lines were cut (the batch is bounded). */
export interface JobLogBatch {
  lines: JobLogLine[];
  dropped: number;
}

/** A phase of a job that names them (`ctx.progress({ phase, phases })`), as the engine tracked it. */
export interface PhaseProgress {
  name: string;
  status: 'PENDING' | 'IN_PROGRESS' | 'COMPLETED';
  /** Epoch milliseconds; 0 for a phase not reached yet. */
  startedAtMs: number;
  /** Epoch milliseconds; 0 until the job moved on to another phase. */
  endedAtMs: number;
}

/** What the engine's `progress` event carries: the handler's report, and its phases when it names any. */
export interface ReportedProgress {
  current?: number;
  total?: number;
  message?: string;
  phase?: string;
  phases?: PhaseProgress[];
}

/** What a `retrying` event carries: why the attempt failed, and when the next one starts. */
export interface RetryNotice extends JobFailure {
  /** The number of the attempt about to run (`ctx.attempt` of it); the first run was 0. */
  attempt: number;
  /** Milliseconds until it starts (0: at once, as after a worker crash). */
  delayMs: number;
}

/** A finished job's answer, normalised: the form results take outside the worker. */
export interface JobResult {
  status: number;
  /** Flat list `[name, value, ...]`. */
  headers: string[];
  body: Uint8Array | null;
  /** What `ctx.warn` and the response's `warnings` reported; absent or empty when nothing did. */
  warnings?: readonly JobWarning[] | null;
}

/** A handler error's own data fields, as the engine passes them on: it reads none of them. */
export type FailureDetails = Readonly<Record<string, string | number | boolean>>;

/** Why a job failed. What it means to a client (an HTTP status, say) is the embedder's to decide. */
export interface JobFailure {
  /** One of `JOB_FAILURE` in errors.ts. */
  code: string;
  message: string;
  /**
   * For `ERR_HANDLER`: the thrown error's own fields with string, number or boolean values
   * (such as `status`, `errorNum`, `retryable`), passed through untouched; null when it has none.
   */
  details: FailureDetails | null;
}

export interface JobProgress {
  current?: number;
  total?: number;
  message?: string;
  /** The phase the job is in; naming a new one ends the previous one (its duration is kept). */
  phase?: string;
  /** Every phase the job will go through, in order, so that those not reached show as PENDING. */
  phases?: readonly string[];
}

/** The cancellable context each handler runs in. */
export interface JobContext {
  readonly jobId: number;
  /** Aborted when the job is cancelled, times out, or the engine shuts down. */
  readonly signal: AbortSignal;
  /** Epoch milliseconds after which the job is cancelled as timed out; Infinity when none. */
  readonly deadline: number;
  /** 0 on the first run; 1 when an idempotent job is re-run after its worker was terminated. */
  readonly attempt: number;
  /**
   * Who submitted the job, as the server authenticated them (null with authentication off):
   * handlers read this instead of parsing credentials from the headers.
   */
  readonly user: JobUser | null;
  /** Throws the job's termination error if it was cancelled. Costs one atomic load. */
  checkpoint(): void;
  /** Resolves after `ms` milliseconds; rejects with the termination error as soon as the job is cancelled. */
  sleep(ms: number): Promise<void>;
  /** Reports progress; the engine coalesces frequent calls, so calling it often is cheap. */
  progress(progress: JobProgress): void;
  /**
   * Adds a line to the job's log (kept with the job, bounded: the newest 1,000 lines or 64 KiB).
   * Lines are sent in batches, like progress. `fields` keeps its string, number, boolean and null values.
   */
  log(message: string, fields?: Record<string, unknown>): void;
  /** Reports a warning: the job goes on, and ends COMPLETED_WITH_ERRORS if it succeeds (at most 100 are kept). */
  warn(warning: JobWarning): void;
}

export type Handler = (request: JobRequest, ctx: JobContext) => JobResponse | Promise<JobResponse>;

/** One route of a handler module's `routes` array. */
export interface RouteDefinition {
  /** HTTP method, or several. HEAD is served by the GET route when no HEAD route exists. */
  method: string | readonly string[];
  /** Path pattern; `:name` segments are parameters, e.g. `/reports/:reportId`. */
  path: string;
  handler: Handler;
  /** Safe to run twice: re-run once on another worker if its worker is terminated under it. */
  idempotent?: boolean;
  /** Deadline in milliseconds; overrides the engine-wide default. 0 means none. */
  timeoutMs?: number;
  /** What the operations surface calls jobs of this route (`type`); default `METHOD /path/pattern`. */
  name?: string;
  /** Runs a failed job again (see RetryPolicy); none by default. */
  retry?: RetryPolicy;
}

/**
 * Automatic retries of a route's failed jobs: a handler error is retried, after an exponential
 * backoff with jitter, unless the error says `retryable: false`; its `retryAfterMs` replaces
 * the computed delay. Timeouts, cancellations and bad responses are not retried. Attempts run
 * as the same job (same id, `ctx.attempt` counting up); each failed one is a `retrying` event.
 */
export interface RetryPolicy {
  /** Runs in all, the first included (2 or more to retry at all). */
  attempts: number;
  /** Delay before the first retry, milliseconds; doubled for each next one. Default 1000. */
  delayMs?: number;
  /** Ceiling of a delay, milliseconds. Default 60,000. */
  maxDelayMs?: number;
  /** Spread each delay over 50-100 % of its value, so that failures in step do not retry in step. Default true. */
  jitter?: boolean;
}

export type JobEventKind =
  | 'queued' | 'running' | 'progress' | 'log' | 'retrying'
  | 'done' | 'failed' | 'cancelled' | 'timedOut';

/** What a job event carries (see JobEventListener). */
export type JobEventData = JobResult | JobFailure | RetryNotice | ReportedProgress | JobLogBatch | undefined;

/**
 * Receives every job transition. `data` is the `JobResult` for `done`, the `JobFailure` for
 * `failed`, the `RetryNotice` for `retrying`, the `ReportedProgress` for `progress`, the
 * `JobLogBatch` for `log`, and undefined otherwise. `done`, `failed`, `cancelled` and
 * `timedOut` are final: exactly one of them ends every job.
 */
export type JobEventListener = (kind: JobEventKind, jobId: number, data: JobEventData) => void;
