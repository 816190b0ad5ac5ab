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
}

/** A finished job's answer, normalised: the form results take outside the worker. */
export interface JobResult {
  status: number;
  /** Flat list `[name, value, ...]`. */
  headers: string[];
  body: Uint8Array | null;
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
  phase?: string;
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
}

export type JobEventKind =
  | 'queued' | 'running' | 'progress' | 'retrying'
  | 'done' | 'failed' | 'cancelled' | 'timedOut';

/**
 * Receives every job transition. `data` is the `JobResult` for `done`, the `JobFailure` for
 * `failed` and `retrying`, the `JobProgress` for `progress`, and undefined otherwise.
 * `done`, `failed`, `cancelled` and `timedOut` are final: exactly one of them ends every job.
 */
export type JobEventListener = (kind: JobEventKind, jobId: number, data: JobResult | JobFailure | JobProgress | undefined) => void;
