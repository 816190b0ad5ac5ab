import {
  HttpError, JobClientError, OperationCancelledError, OperationFailedError, OperationGoneError, WaitTimeoutError,
} from './errors.js';
import { readEventStream } from './sse.js';

/** How the client authenticates: HTTP Basic, or a JWT (from `login()` or the operator). */
export type JobClientAuth = { username: string; password: string } | { token: string };

/** Options of {@link JobClient}. */
export interface JobClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:8529`. */
  url: string;
  /** Credentials; none for a server without `--server.authentication`. */
  auth?: JobClientAuth;
  /** A `fetch` of your own (a proxy agent, a test double). @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
}

/** The final outcome states of an operation. */
export type FinalStatus = 'COMPLETED' | 'COMPLETED_WITH_ERRORS' | 'FAILED' | 'CANCELLED';
/** Every state an operation can be in. */
export type OperationState = 'PENDING' | 'PROCESSING' | FinalStatus;

/** Progress as the server shows it. */
export interface Progress {
  current: number | null;
  total: number | null;
  percentage: number | null;
  phase: string | null;
  message: string | null;
  phases?: Array<{ name: string; status: string; duration?: number; percentage?: number }>;
}

/** An operation's status body (`GET /_api/operations/{id}`); fields beyond these are kept as sent. */
export interface OperationStatus {
  operationId: string;
  status: OperationState;
  type?: string;
  progress?: Progress | null;
  error?: Record<string, unknown>;
  reason?: string;
  result?: { status: number; url: string; body?: unknown };
  [field: string]: unknown;
}

/** One event of an operation's stream (SSE), as the server sends it. */
export interface OperationEvent {
  /** The SSE id: a stream resumes after it. */
  id: string;
  /** `STATUS_UPDATE`, `LOG`, `RETRYING`, or the final status. */
  event: string;
  operationId: string;
  status: OperationState;
  progress: Progress | null;
  timestamp: string;
  data: Record<string, unknown>;
}

/** A job's own answer (`GET /_api/operations/{id}/result`). */
export interface OperationResult {
  /** The handler's HTTP status. */
  status: number;
  headers: Headers;
  /** Parsed JSON when the answer is JSON, else its text. */
  body: unknown;
}

/** What to submit besides method and path. */
export interface SubmitOptions {
  /** A JSON-able value (sent as JSON), or a string / bytes sent as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  /** `Idempotency-Key`: the same key and request within the retention return the first operation. */
  idempotencyKey?: string;
  /** A webhook for this operation (`x-callback-url`); `events` e.g. `['COMPLETED', 'FAILED']`; `secret` signs its deliveries. */
  webhook?: { url: string; events?: string[]; secret?: string };
  signal?: AbortSignal;
}

/** Options of {@link Operation.wait}. */
export interface WaitOptions {
  /** Called with each progress update while the operation runs. */
  onProgress?: (progress: Progress, event: OperationEvent) => void;
  signal?: AbortSignal;
  /** Give up after this long with {@link WaitTimeoutError} (the operation keeps running). */
  timeoutMs?: number;
}

/** Options of {@link Operation.events}. */
export interface EventsOptions {
  signal?: AbortSignal;
  /** Resume after this event id (as a reconnecting stream does). */
  lastEventId?: string;
  /** How long to wait before reconnecting after a dropped connection; doubles up to 5 s. @defaultValue 250 */
  reconnectDelayMs?: number;
}

/** Filters of {@link JobClient.operations} and {@link JobClient.historyPages}. */
export interface OperationsFilter {
  /** Only operations in this state (the server filters). */
  status?: OperationState;
  /** Only operations of this type, e.g. `REPORT_GENERATION` or `GET /_admin/steps` (filtered here). */
  type?: string;
  /** Only this user's operations (the server filters; a superuser may name anyone, others only themselves). */
  user?: string;
  /** Start below this operation id (a page's `next`); none: the newest. */
  after?: string;
  /** Operations per page. @defaultValue 100 */
  pageSize?: number;
  signal?: AbortSignal;
}

/** One page of the history, as {@link JobClient.historyPages} yields it. */
export interface HistoryPage {
  /** The page's operations that match the filter (with a `type` filter, possibly none). */
  data: OperationStatus[];
  /** The cursor of the next (older) page, for `after`; null on the last. */
  next: string | null;
  /** How many operations the server's filters (status, user) match, before the `type` filter. */
  totalElements: number;
}

/** The states an operation ends in: no event follows them. */
export const FINAL_STATUSES: ReadonlySet<string> = new Set<FinalStatus>(['COMPLETED', 'COMPLETED_WITH_ERRORS', 'FAILED', 'CANCELLED']);
const MAX_RECONNECT_DELAY_MS = 5_000;

/**
 * A client of the job server's operations surface: submit a request as an operation, watch it
 * (SSE, resumed after a dropped connection), wait for its result with progress, cancel, retry,
 * page through the history. No dependencies: `fetch`, streams and Web Crypto, so it runs in
 * Node 20+ and in browsers alike.
 *
 * @example
 * ```ts
 * const client = new JobClient({ url: 'http://127.0.0.1:8529', auth: { username: 'alice', password: 's3cret' } });
 * const operation = await client.submit('POST', '/_admin/report', { body: { records: 1000 } });
 * const result = await operation.wait({ onProgress: (p) => console.log(p.percentage) });
 * ```
 */
export class JobClient {
  readonly url: string;
  #auth: JobClientAuth | undefined;
  readonly #fetch: typeof fetch;

  constructor(options: JobClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#auth = options.auth;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /**
   * Trades username and password (given here, or the Basic credentials of the options) for a
   * JWT (`POST /_open/auth`), which later calls send as `Authorization: bearer`. Resolves with it.
   */
  async login(username?: string, password?: string): Promise<string> {
    const basic = this.#auth !== undefined && 'username' in this.#auth ? this.#auth : undefined;
    const credentials = { username: username ?? basic?.username, password: password ?? basic?.password ?? '' };
    if (credentials.username === undefined) throw new JobClientError('NO_CREDENTIALS', 'login() needs a username');
    const response = await this.#fetch(`${this.url}/_open/auth`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credentials),
    });
    const body = await bodyOf(response);
    if (!response.ok) throw httpError(response, body, 'login');
    const token = (body as { jwt?: unknown }).jwt;
    if (typeof token !== 'string') throw new JobClientError('BAD_ANSWER', 'login: the answer has no jwt');
    this.#auth = { token };
    return token;
  }

  /**
   * Submits `method path` as an operation (`Prefer: respond-async`) and resolves with its
   * handle once the server accepted it (202).
   */
  async submit(method: string, path: string, options: SubmitOptions = {}): Promise<Operation> {
    const headers: Record<string, string> = { ...options.headers, prefer: 'respond-async' };
    let body: string | Uint8Array<ArrayBuffer> | undefined;
    if (options.body !== undefined) {
      if (typeof options.body === 'string' || options.body instanceof Uint8Array) {
        body = options.body as string | Uint8Array<ArrayBuffer>;
      } else {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
    }
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    if (options.webhook !== undefined) {
      headers['x-callback-url'] = options.webhook.url;
      if (options.webhook.events !== undefined) headers['x-callback-events'] = options.webhook.events.join(',');
      if (options.webhook.secret !== undefined) headers['x-callback-secret'] = options.webhook.secret;
    }
    const response = await this.request(method, path, { headers, body, signal: options.signal });
    const answer = await bodyOf(response);
    if (response.status !== 202 && response.status !== 200) throw httpError(response, answer, `submit ${method} ${path}`);
    const id = (answer as { operationId?: unknown }).operationId;
    if (typeof id !== 'string') throw new JobClientError('BAD_ANSWER', `submit ${method} ${path}: the answer has no operationId`);
    return new Operation(this, id, answer as OperationStatus);
  }

  /** The handle of an operation submitted earlier (by id). */
  operation(operationId: string): Operation {
    return new Operation(this, operationId, null);
  }

  /**
   * The caller's operations (everyone's for a superuser), newest first, page by page as the
   * iteration goes (`GET /_api/operations?limit&after`).
   */
  async *operations(filter: OperationsFilter = {}): AsyncGenerator<OperationStatus> {
    for await (const page of this.historyPages(filter)) yield* page.data;
  }

  /**
   * The history page by page, newest first, each with the cursor of the next and the server's
   * count: what a paged view needs. The server filters by status and user; `type` is matched
   * here, so a page may hold fewer than `pageSize` operations, or none.
   */
  async *historyPages(filter: OperationsFilter = {}): AsyncGenerator<HistoryPage> {
    let after = filter.after ?? '';
    for (;;) {
      const query = new URLSearchParams({ limit: String(filter.pageSize ?? 100) });
      if (filter.status !== undefined) query.set('status', filter.status);
      if (filter.user !== undefined) query.set('user', filter.user);
      if (after !== '') query.set('after', after);
      const page = await this.json<{ data: OperationStatus[]; pagination: { next?: string | null; totalElements?: number } }>(
        'GET', `/_api/operations?${query}`, filter.signal);
      const next = page.pagination?.next;
      const more = typeof next === 'string' && next !== '' && page.data.length > 0;
      yield {
        data: filter.type === undefined ? page.data : page.data.filter((operation) => operation.type === filter.type),
        next: more ? next : null,
        totalElements: page.pagination?.totalElements ?? 0,
      };
      if (!more) return;
      after = next;
    }
  }

  /** A request with the client's credentials; resolves with the response whatever its status. */
  request(method: string, path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const authorization = this.#authorization();
    if (authorization !== null && !headers.has('authorization')) headers.set('authorization', authorization);
    return this.#fetch(`${this.url}${path}`, { ...init, method, headers });
  }

  /** @internal A request whose answer must be a 2xx JSON body. */
  async json<T>(method: string, path: string, signal?: AbortSignal, init: RequestInit = {}): Promise<T> {
    const response = await this.request(method, path, { ...init, signal });
    const body = await bodyOf(response);
    if (!response.ok) throw httpError(response, body, `${method} ${path}`);
    return body as T;
  }

  #authorization(): string | null {
    const auth = this.#auth;
    if (auth === undefined) return null;
    if ('token' in auth) return `bearer ${auth.token}`;
    return `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(`${auth.username}:${auth.password}`)))}`;
  }
}

/** One operation on the server: ask its status, follow its events, wait for it, cancel or retry it. */
export class Operation {
  readonly id: string;
  /** The status the server answered when this handle was made (the submit's 202), if any. */
  readonly submitted: OperationStatus | null;
  readonly #client: JobClient;

  constructor(client: JobClient, id: string, submitted: OperationStatus | null) {
    this.#client = client;
    this.id = id;
    this.submitted = submitted;
  }

  get #path(): string {
    return `/_api/operations/${encodeURIComponent(this.id)}`;
  }

  /** The current status body; {@link OperationGoneError} once it expired or was removed. */
  async status(signal?: AbortSignal): Promise<OperationStatus> {
    // A completed operation answers 303 See Other towards its result, unless asked for the
    // status itself: a browser's fetch cannot read a 303's body.
    const response = await this.#client.request('GET', this.#path, { signal, headers: { prefer: 'return=representation' } });
    const body = await bodyOf(response);
    if (response.status === 200) return body as OperationStatus;
    throw this.#failure(response, body, 'status');
  }

  /**
   * The operation's events as they come (SSE read with `fetch`, so credentials go in the
   * `Authorization` header): the current state first, then updates, logs and retries, ending
   * with the final event. A dropped connection is resumed with `Last-Event-ID`, so no event is
   * lost or repeated; the iteration ends after the final event, or when `signal` aborts.
   */
  async *events(options: EventsOptions = {}): AsyncGenerator<OperationEvent> {
    let lastEventId = options.lastEventId ?? '';
    let delayMs = options.reconnectDelayMs ?? 250;
    for (;;) {
      options.signal?.throwIfAborted();
      let response: Response;
      try {
        const headers: Record<string, string> = { accept: 'text/event-stream' };
        if (lastEventId !== '') headers['last-event-id'] = lastEventId;
        response = await this.#client.request('GET', `${this.#path}/stream`, { headers, signal: options.signal });
      } catch (error) {
        if (options.signal?.aborted === true) throw error;
        await sleep(delayMs, options.signal);
        delayMs = Math.min(delayMs * 2, MAX_RECONNECT_DELAY_MS);
        continue;
      }
      if (response.status === 204) return; // the final event was the last one seen
      if (response.status !== 200 || response.body === null) {
        const body = await bodyOf(response);
        if (response.status >= 500) {
          await sleep(delayMs, options.signal);
          continue;
        }
        throw this.#failure(response, body, 'events');
      }
      try {
        for await (const message of readEventStream(response.body)) {
          if (message.id !== '') lastEventId = message.id;
          const payload = JSON.parse(message.data) as Omit<OperationEvent, 'id'>;
          const event: OperationEvent = { ...payload, id: message.id };
          delayMs = options.reconnectDelayMs ?? 250;
          yield event;
          if (FINAL_STATUSES.has(event.event)) return;
        }
      } catch (error) {
        if (options.signal?.aborted === true) throw error;
      }
      // The stream ended or broke before the final event: resume after the last one seen.
      await sleep(delayMs, options.signal);
      delayMs = Math.min(delayMs * 2, MAX_RECONNECT_DELAY_MS);
    }
  }

  /**
   * Waits for the operation to end and resolves with its result (`result()`); rejects with
   * {@link OperationFailedError}, {@link OperationCancelledError}, {@link OperationGoneError}
   * (expired or removed), {@link WaitTimeoutError} after `timeoutMs`, or the signal's reason.
   */
  async wait(options: WaitOptions = {}): Promise<OperationResult> {
    const signals = [options.signal, options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs)]
      .filter((signal): signal is AbortSignal => signal !== undefined);
    const signal = signals.length === 0 ? undefined : signals.length === 1 ? signals[0] : AbortSignal.any(signals);
    try {
      for await (const event of this.events({ signal })) {
        if (event.progress != null && !FINAL_STATUSES.has(event.event)) options.onProgress?.(event.progress, event);
        if (event.status === 'FAILED') throw new OperationFailedError(this.id, (event.data.error as Record<string, unknown>) ?? null);
        if (event.status === 'CANCELLED') {
          // The event does not carry the reason; the status does.
          const reason = typeof event.data.reason === 'string' ? event.data.reason : await this.status(signal).then(
            (status) => (typeof status.reason === 'string' ? status.reason : null), () => null);
          throw new OperationCancelledError(this.id, reason);
        }
        if (FINAL_STATUSES.has(event.event)) return await this.result(signal);
      }
      // The stream said it had already ended (204): ask how.
      const status = await this.status(signal);
      if (status.status === 'FAILED') throw new OperationFailedError(this.id, status.error ?? null);
      if (status.status === 'CANCELLED') throw new OperationCancelledError(this.id, typeof status.reason === 'string' ? status.reason : null);
      return await this.result(signal);
    } catch (error) {
      if (options.timeoutMs !== undefined && (error as Error)?.name === 'TimeoutError' && options.signal?.aborted !== true) {
        throw new WaitTimeoutError(this.id, options.timeoutMs);
      }
      throw error;
    }
  }

  /** The job's own answer (kept: reading it does not remove it); {@link HttpError} 409-ish while it has none yet. */
  async result(signal?: AbortSignal): Promise<OperationResult> {
    const response = await this.#client.request('GET', `${this.#path}/result`, { signal });
    const body = await bodyOf(response);
    if (response.status === 410 || response.status === 404) throw this.#failure(response, body, 'result');
    if (response.headers.get('content-type')?.includes('application/problem+json') === true && !response.ok) {
      throw this.#failure(response, body, 'result');
    }
    return { status: response.status, headers: response.headers, body };
  }

  /** Asks the server to cancel it (a running handler really stops); resolves with the answer (`status: CANCELLED`, `reason`). */
  cancel(reason?: string, signal?: AbortSignal): Promise<OperationStatus> {
    return this.#call('POST', '/cancel', 'cancel', signal, reason === undefined ? '{}' : JSON.stringify({ reason }));
  }

  /** Runs a FAILED or CANCELLED operation again under its id; resolves with the new handle. */
  async retry(signal?: AbortSignal): Promise<Operation> {
    const status = await this.#call<OperationStatus>('POST', '/retry', 'retry', signal, '{}');
    return new Operation(this.#client, this.id, status);
  }

  /**
   * Deletes it and its result from the server (ArangoDB's `DELETE /_api/job/{id}`; a running
   * one is not stopped by this: cancel it first). Rejects with {@link OperationGoneError} when
   * the server no longer has it (expired, fetched or deleted before).
   */
  async remove(signal?: AbortSignal): Promise<void> {
    const response = await this.#client.request('DELETE', `/_api/job/${encodeURIComponent(this.id)}`, { signal });
    const answer = await bodyOf(response);
    if (!response.ok) throw this.#failure(response, answer, 'delete');
  }

  /** Its log: `{lines: [{timestamp, message, fields?}], truncated}`. */
  logs(signal?: AbortSignal): Promise<{ lines: Array<{ timestamp: string; message: string; fields?: Record<string, unknown> }>; truncated: boolean }> {
    return this.#call('GET', '/logs', 'logs', signal);
  }

  async #call<T>(method: string, suffix: string, what: string, signal?: AbortSignal, body?: string): Promise<T> {
    const init: RequestInit = { signal };
    if (body !== undefined) init.body = body;
    if (body !== undefined) init.headers = { 'content-type': 'application/json' };
    const response = await this.#client.request(method, `${this.#path}${suffix}`, init);
    const answer = await bodyOf(response);
    if (!response.ok) throw this.#failure(response, answer, what);
    return answer as T;
  }

  #failure(response: Response, body: unknown, what: string): Error {
    if (response.status === 410 || response.status === 404) {
      const expiredAt = (body as { expiredAt?: unknown } | null)?.expiredAt;
      return new OperationGoneError(this.id, typeof expiredAt === 'string' ? expiredAt : null, response.status);
    }
    return httpError(response, body, `${what} of operation ${this.id}`);
  }
}

async function bodyOf(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return null;
  const type = response.headers.get('content-type') ?? '';
  if (/json/.test(type)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function httpError(response: Response, body: unknown, what: string): HttpError {
  const retryAfter = Number(response.headers.get('retry-after'));
  return new HttpError(response.status, body, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null, what);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
