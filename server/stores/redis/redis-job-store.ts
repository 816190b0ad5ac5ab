import { pack, unpack } from 'msgpackr';
import type { Caller } from '../../auth/index.js';
import {
  copyWebhookRegistration, firstJobIdAt, type GoneJob, type JobDetails, type JobOutcome, type JobStatusFilter, type JobStore,
  type JobSummary, type JobView, type NewJob, type PendingWebhookEvent, type ReopenedJob, type StoredRequest, type StoredResult,
  type StoreRecovery, type UnfinishedJob, type WebhookRegistration,
} from '../../jobs/index.js';
import { StartLogs } from '../start-logs.js';
import { numberOf, RedisConnection, RedisUnavailableError, text, type Reply } from './redis-connection.js';

/** How many jobs one script call removes at most, so that a bulk delete never blocks Redis for long. */
const REMOVE_BATCH = 1000;

/** The status letters the scripts keep, by history filter. */
const STATUS_OF_FILTER: Record<JobStatusFilter, string> = {
  queued: 'q', running: 'r', completed: 'c', failed: 'f', cancelled: 'x', completedWithErrors: 'w',
};

export interface RedisJobStoreOptions {
  /** `redis://HOST:PORT[/DB]`. */
  url: string;
  /** Keys start with `PREFIX:`; several clusters (or test stores) share one Redis under different prefixes. */
  prefix: string;
  /** This node's name in the cluster: the jobs it claims, its webhook events and its start logs are its own. */
  nodeId: string;
  /**
   * Where the node's workers log job starts (see `JobStore.startLogDirectory`): a directory of
   * this machine that outlives the process. Without one, every job this node had claimed when
   * it stopped counts as possibly run (`dispatched`): safe, but a job of a route that is not
   * idempotent which never started ends failed instead of running.
   */
  startLogDirectory?: string;
  /** Told when the connection to Redis is lost (once per outage). */
  onConnectionError?: (error: Error) => void;
  /** Jobs the shared queue may hold, cluster-wide (`--server.maximal-queue-size`); beyond, `add` of a shared job throws ERR_QUEUE_FULL. */
  maxSharedQueue?: number;
  /** Results read through this store carry `x-arango-async-node: NODE`, the node that ran the job (from its `n` field), so that a client sees where it ran. */
  nodeHeader?: boolean;
}

/** A stored job a node took from the shared queue or from a lost node: what it takes to run it. */
export interface ClaimedJob {
  jobId: number;
  createdAtMs: number;
  request: StoredRequest;
  /** Its `x-callback-url` registration: the node that runs it delivers its events. */
  webhook: WebhookRegistration | null;
  /** Nodes with watchers of it (SSE, WebSocket), to forward its events to. */
  watchers: string[];
}

/** Where a job a node wants to watch is: see the `watch` script. */
export type WatchPlace = 'ended' | 'queued' | 'here' | 'elsewhere';

/** What `cancelRemote` did: nothing (not visible), nothing to do, the job's node told, or the caller's to cancel. */
export type RemoteCancel = 'unknown' | 'done' | 'sent' | 'queued';

/** A job's queue entry as `XREADGROUP` gave it. */
export interface QueueEntry {
  entryId: string;
  jobId: number;
}

/**
 * The job store of a cluster: every job, result, idempotency key and counter lives in one Redis,
 * so that any node answers any call about any job exactly as a single server would. Each change
 * is one Lua script (redis-scripts.ts), atomic across the keys it touches; calls go over one
 * connection in the order they are made, and the calls of one event-loop turn are written
 * together (node-redis pipelines them).
 *
 * A node claims the jobs it runs (`P cl:NODE`); `recover` hands it back those it had claimed
 * when it stopped. Without Redis every call rejects with `ERR_STORE_UNAVAILABLE`, which the
 * front answers with 503 and `Retry-After`.
 */
export class RedisJobStore implements JobStore {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #nodeId: string;
  readonly #startLogs: StartLogs | null;
  #removalListener: (jobId: number | null) => void = () => undefined;
  #size = 0;
  #closed = false;
  readonly #maxSharedQueue: string;
  readonly #nodeHeader: boolean;
  /** The attempt of each pending job this node claimed: its writes are fenced by it (see `fenced` in the scripts). */
  readonly #attempts = new Map<number, string>();
  /** Starts not written yet (see markStarted). */
  readonly #starts = new Map<number, number>();
  #startsWritten: Promise<void> | null = null;
  /** Above every id this store saw recorded (at open and added since). */
  #idFloor = 0;

  private constructor(connection: RedisConnection, options: RedisJobStoreOptions) {
    this.#connection = connection;
    this.#prefix = `${options.prefix}:`;
    this.#nodeId = options.nodeId;
    this.#startLogs = options.startLogDirectory === undefined ? null : new StartLogs(options.startLogDirectory);
    this.#maxSharedQueue = String(options.maxSharedQueue ?? 2 ** 30);
    this.#nodeHeader = options.nodeHeader ?? false;
  }

  /** Connects and reads the counters; rejects with `ERR_STORE_UNAVAILABLE` when Redis cannot be reached. */
  static async open(options: RedisJobStoreOptions): Promise<RedisJobStore> {
    const connection = await RedisConnection.open({
      url: options.url, name: `${options.prefix}:${options.nodeId}:store`, onError: options.onConnectionError,
    });
    const store = new RedisJobStore(connection, options);
    try {
      const [newestId, count] = (await store.#run('counters', [options.nodeId])) as Reply[];
      store.#idFloor = numberOf(newestId) + 1;
      store.#size = numberOf(count);
    } catch (error) {
      connection.destroy();
      throw error;
    }
    return store;
  }

  /** The connection, for the cluster's other parts that share it (ids, leases, the queue). */
  get connection(): RedisConnection {
    return this.#connection;
  }

  get nodeId(): string {
    return this.#nodeId;
  }

  get prefix(): string {
    return this.#prefix;
  }

  get size(): number {
    return this.#size;
  }

  get startLogDirectory(): string | null {
    return this.#startLogs?.directory ?? null;
  }

  firstJobId(nowMs: number): number {
    return Math.max(firstJobIdAt(nowMs), this.#idFloor);
  }

  async recover(): Promise<StoreRecovery> {
    const dispatched = this.#startLogs?.readAll() ?? null;
    const claimed = (await this.#run('recover', [this.#nodeId])) as Reply[][];
    for (const entry of claimed) this.#attempts.set(numberOf(entry[0]), text(entry[6]));
    const unfinished: UnfinishedJob[] = claimed.map(([jobId, owner, createdAtMs, request, noBody, webhook]) => ({
      jobId: numberOf(jobId),
      owner: text(owner),
      createdAtMs: numberOf(createdAtMs),
      request: decodeRequest(request as Buffer),
      keepNoBody: text(noBody) === '1',
      webhook: webhook === null ? null : decodeWebhook(webhook as Buffer),
      dispatched: dispatched === null ? true : dispatched.has(numberOf(jobId)),
    })).sort((left, right) => left.jobId - right.jobId);
    this.#startLogs?.replaceAll(unfinished.filter((job) => job.dispatched).map((job) => job.jobId));
    const webhooks: StoreRecovery['webhooks'] = [];
    const registrations = (await this.#run('webhooks', [])) as Reply[];
    for (let index = 0; index < registrations.length; index += 2) {
      webhooks.push({ jobId: numberOf(registrations[index]), webhook: decodeWebhook(registrations[index + 1] as Buffer) });
    }
    const events = (await this.#connection.command(['HVALS', this.#webhookEventsKey])) as Buffer[];
    const webhookEvents = events.map((bytes) => unpack(bytes) as PendingWebhookEvent).sort((left, right) => left.eventId - right.eventId);
    return { unfinished, webhooks, webhookEvents };
  }

  async add(job: NewJob): Promise<void> {
    if (job.jobId >= this.#idFloor) this.#idFloor = job.jobId + 1;
    const idempotency = job.idempotency;
    const count = await this.#run('add', [
      String(job.jobId), job.owner, String(job.createdAtMs), String(job.retentionMs), job.type, job.keepNoBody ? '1' : '0',
      encodeRequest(job.request), job.webhook === null ? '' : pack(copyWebhookRegistration(job.webhook)),
      idempotency === null ? '' : idempotencyName(job.owner, idempotency.key), idempotency === null ? '0' : String(idempotency.expiresAtMs),
      this.#nodeId, idempotency === null ? '' : idempotency.fingerprint, job.shared === true ? '1' : '0', this.#maxSharedQueue,
    ]).catch(rethrowQueueFull);
    if (job.shared !== true) this.#attempts.set(job.jobId, '1');
    this.#size = numberOf(count);
  }

  /**
   * Written START_DELAY_MS later, with the other starts of that moment: a job that ends first
   * (most short ones) has its start written with its end, one script call less per job
   * (bench: one of 4.3 per stored job). Resolves once written (or absorbed).
   */
  markStarted(jobId: number, nowMs: number): Promise<void> {
    this.#starts.set(jobId, nowMs);
    if (this.#startsWritten === null) {
      this.#startsWritten = new Promise((resolve, reject) => {
        setTimeout(() => this.#writeStarts().then(resolve, reject), START_DELAY_MS);
      });
    }
    return this.#startsWritten;
  }

  async #writeStarts(): Promise<void> {
    const starts = [...this.#starts];
    this.#starts.clear();
    this.#startsWritten = null;
    await Promise.all(starts.map(([jobId, nowMs]) => this.#untilCommitted('start', [String(jobId), String(nowMs), ...this.#fence(jobId)])));
  }

  /** The start of `jobId` not written yet, as a script argument ('' when none), now written by the caller's script. */
  #unwrittenStart(jobId: number): string {
    const startedAtMs = this.#starts.get(jobId);
    if (startedAtMs === undefined) return '';
    this.#starts.delete(jobId);
    return String(startedAtMs);
  }

  async finish(jobId: number, result: StoredResult, nowMs: number, outcome: JobOutcome = 'completed', details: JobDetails | null = null): Promise<boolean> {
    const stored = await this.#untilCommitted('finish', [
      String(jobId), String(nowMs), outcome, pack([result.status, result.headers]),
      // A copy: node-redis writes the command later in this turn, and the caller may reuse its buffer at once.
      result.body === null ? '' : Buffer.from(result.body),
      result.body === null ? '0' : '1', details === null ? '' : pack(details), ...this.#fence(jobId), this.#unwrittenStart(jobId),
    ]);
    this.#attempts.delete(jobId);
    return stored === 1;
  }

  async cancel(jobId: number, nowMs: number, details: JobDetails | null = null): Promise<boolean> {
    const [found] = (await this.#untilCommitted('cancel', [
      String(jobId), String(nowMs), details === null ? '' : pack(details), ...this.#fence(jobId), this.#unwrittenStart(jobId),
    ])) as Reply[];
    this.#attempts.delete(jobId);
    return found === 1;
  }

  async reopen(jobId: number, nowMs: number): Promise<ReopenedJob | undefined> {
    const reply = (await this.#run('reopen', [String(jobId), String(nowMs), this.#nodeId])) as Reply[] | null;
    if (reply === null) return undefined;
    this.#attempts.set(jobId, text(reply[2]));
    return { request: decodeRequest(reply[0] as Buffer), details: reply[1] === null ? null : decodeDetails(reply[1] as Buffer) };
  }

  async get(jobId: number, caller: Caller): Promise<JobView | undefined> {
    const fields = (await this.#run('get', [String(jobId), ...callerArgs(caller)])) as Reply[] | null;
    return fields === null ? undefined : viewOf(jobId, fields, this.#nodeHeader);
  }

  async take(jobId: number, caller: Caller): Promise<JobView | undefined> {
    const reply = (await this.#run('take', [String(jobId), ...callerArgs(caller)])) as Reply[] | null;
    if (reply === null) return undefined;
    this.#size = numberOf(reply[0]);
    const view = viewOf(jobId, reply.slice(1), this.#nodeHeader);
    if (view.state !== 'pending') this.#removalListener(jobId);
    return view;
  }

  async remove(jobId: number, caller: Caller): Promise<boolean> {
    const count = numberOf(await this.#run('remove', [String(jobId), ...callerArgs(caller)]));
    if (count < 0) return false;
    this.#size = count;
    this.#removalListener(jobId);
    return true;
  }

  async list(state: 'done' | 'pending', count: number, caller: Caller): Promise<number[]> {
    if (count <= 0) return [];
    const ids = (await this.#run('list', [state, String(count), ...callerArgs(caller)])) as Reply[];
    return ids.map(numberOf);
  }

  async removeAll(caller: Caller): Promise<number> {
    let removed = 0;
    for (;;) {
      const [count, batchRemoved, ...ids] = (await this.#run('removeAll', [...callerArgs(caller), String(REMOVE_BATCH)])) as Reply[];
      this.#size = numberOf(count);
      removed += numberOf(batchRemoved);
      for (const jobId of ids) this.#removalListener(numberOf(jobId));
      if (numberOf(batchRemoved) < REMOVE_BATCH) break;
    }
    if (caller.superuser && removed > 0) this.#removalListener(null);
    return removed;
  }

  async removeExpired(stampMs: number, caller: Caller): Promise<number> {
    const stamp = stampMs === Infinity ? '+inf' : String(stampMs);
    let removed = 0;
    for (;;) {
      const [count, ...ids] = (await this.#run('removeExpired', [stamp, ...callerArgs(caller), String(REMOVE_BATCH)])) as Reply[];
      this.#size = numberOf(count);
      removed += ids.length;
      for (const jobId of ids) this.#removalListener(numberOf(jobId));
      if (ids.length < REMOVE_BATCH) return removed;
    }
  }

  async history(caller: Caller, limit: number, beforeJobId: number, filter?: JobStatusFilter): Promise<JobSummary[]> {
    if (limit <= 0) return [];
    const flat = (await this.#run('history', [
      ...callerArgs(caller), String(limit), beforeJobId === Infinity ? '+inf' : String(beforeJobId), filter === undefined ? '' : STATUS_OF_FILTER[filter],
    ])) as Reply[];
    const page: JobSummary[] = [];
    const width = 1 + SUMMARY_WIDTH;
    for (let index = 0; index < flat.length; index += width) {
      page.push(summaryFrom(numberOf(flat[index]), flat.slice(index + 1, index + width)));
    }
    return page;
  }

  async historyCount(caller: Caller, filter?: JobStatusFilter): Promise<number> {
    return numberOf(await this.#run('historyCount', [...callerArgs(caller), filter === undefined ? '' : STATUS_OF_FILTER[filter]]));
  }

  async expire(nowMs: number, onExpired: (jobId: number, expiredAtMs: number) => void): Promise<number> {
    const now = nowMs === Infinity ? '+inf' : String(nowMs);
    let expired = 0;
    for (;;) {
      const [count, ...pairs] = (await this.#run('expire', [now, String(REMOVE_BATCH)])) as Reply[];
      this.#size = numberOf(count);
      for (let index = 0; index < pairs.length; index += 2) {
        const jobId = numberOf(pairs[index]);
        expired++;
        this.#removalListener(jobId);
        onExpired(jobId, numberOf(pairs[index + 1]));
      }
      if (pairs.length / 2 < REMOVE_BATCH) break;
    }
    await this.#compactStartLogs(nowMs);
    return expired;
  }

  async gone(jobId: number, caller: Caller): Promise<GoneJob | undefined> {
    const record = text((await this.#connection.command(['HGET', `${this.#prefix}gone`, String(jobId)])) as Reply);
    if (record === '') return undefined;
    const separator = record.lastIndexOf('|');
    const owner = record.slice(0, separator);
    if (!caller.superuser && owner !== caller.username) return undefined;
    return { jobId, expiredAtMs: Number(record.slice(separator + 1)) };
  }

  async countOwnedBy(owner: string): Promise<number> {
    return numberOf((await this.#connection.command(['HGET', `${this.#prefix}own`, owner])) as Reply);
  }

  async findIdempotent(owner: string, key: string, nowMs: number): Promise<{ jobId: number; fingerprint: string } | undefined> {
    const record = text((await this.#connection.command(['HGET', `${this.#prefix}idem`, idempotencyName(owner, key)])) as Reply);
    if (record === '') return undefined;
    const [jobId, expiresAtMs, fingerprint] = record.split('|');
    if (Number(expiresAtMs) <= nowMs) return undefined;
    return { jobId: Number(jobId), fingerprint };
  }

  async addWebhookEvent(event: PendingWebhookEvent): Promise<void> {
    await this.#connection.command(['HSET', this.#webhookEventsKey, String(event.eventId), pack(event)]);
  }

  async webhookEventDone(eventId: number): Promise<void> {
    await this.#connection.command(['HDEL', this.#webhookEventsKey, String(eventId)]);
  }

  async recordWebhookDeliveries(jobId: number, deliveries: ReadonlyArray<object>): Promise<void> {
    await this.#run('deliveries', [String(jobId), pack(deliveries)]);
  }

  /*
   * The cluster's side (cluster-node.ts): the shared queue, cancels of jobs other nodes run,
   * leases and the jobs of lost nodes.
   */

  /** Claims a job read from the shared queue; null when it was cancelled, deleted or claimed meanwhile. */
  async claimQueued(entry: QueueEntry): Promise<ClaimedJob | null> {
    const reply = (await this.#run('claim', [this.#nodeId, entry.entryId, String(entry.jobId)])) as Reply[] | null;
    if (reply === null) return null;
    this.#attempts.set(entry.jobId, text(reply[2]));
    return claimedJob(entry.jobId, reply[0], reply[1], reply[3], reply[4]);
  }

  /** Puts a fire-and-forget request into the shared queue; rejects with ERR_QUEUE_FULL when it holds `maxSharedQueue`. */
  async shareFire(request: StoredRequest): Promise<void> {
    await this.#run('fire', [this.#maxSharedQueue, encodeRequest(request)]).catch(rethrowQueueFull);
  }

  /** Takes a fire-and-forget request read from the shared queue: null when another node took it. */
  async takeFire(entryId: string, bytes: Buffer): Promise<StoredRequest | null> {
    return (await this.#run('takeFire', [entryId])) === 1 ? decodeRequest(bytes) : null;
  }

  /** Puts an entry this node read from the shared queue back at its end, for another node. */
  async giveBack(entryId: string, field: string, value: Buffer | string): Promise<void> {
    await this.#run('giveBack', [entryId, field, value]);
  }

    /** Registers this node as a watcher of a pending job (its node is told to forward its events). */
  async watchRemote(jobId: number): Promise<WatchPlace> {
    const [where] = (await this.#run('watch', [String(jobId), this.#nodeId])) as Reply[];
    return text(where) as WatchPlace;
  }

  /** The live details (progress, log) of a job this node runs, for status answers at other nodes; false once it ended or moved. */
  async writeLive(jobId: number, details: JobDetails): Promise<boolean> {
    return (await this.#run('live', [String(jobId), pack(details), ...this.#fence(jobId)])) === 1;
  }

  /** This node's last watcher of the job went away. */
  async unwatchRemote(jobId: number): Promise<void> {
    await this.#run('unwatch', [String(jobId), this.#nodeId]);
  }

  /** Appends each `[field, value, ...]` message to `node`'s inbox (pipelined: one round trip for a batch). */
  async tell(node: string, messages: ReadonlyArray<ReadonlyArray<string>>): Promise<void> {
    const key = `${this.#prefix}in:${node}`;
    await Promise.all(messages.map((fields) => this.#connection.command(['XADD', key, 'MAXLEN', '~', '10000', '*', ...fields])));
  }

  /** A client's cancel of a job this node's engine does not hold. */
  async cancelRemote(jobId: number, reason: string, caller: Caller): Promise<RemoteCancel> {
    const [found, state] = (await this.#run('cancelRemote', [String(jobId), reason, ...callerArgs(caller)])) as Reply[];
    return found === 1 ? (text(state) as RemoteCancel) : 'unknown';
  }

  /** Cancels a job still in the shared queue (no node claimed it); false when one claimed it meanwhile or it ended. */
  async cancelQueued(jobId: number, nowMs: number, details: JobDetails | null): Promise<boolean> {
    const [, cancelled] = (await this.#run('cancel', [String(jobId), String(nowMs), details === null ? '' : pack(details), '', ''])) as Reply[];
    return cancelled === 1;
  }

  /** Renews this node's lease for `leaseMs` from Redis's clock; resolves that clock's time. */
  async renewLease(leaseMs: number): Promise<number> {
    return numberOf(await this.#run('lease', [this.#nodeId, String(leaseMs)]));
  }

  async giveUpLease(): Promise<void> {
    await this.#run('unlease', [this.#nodeId]);
  }

  /** Takes over up to `batch` pending jobs of one node whose lease lapsed; null when no lease lapsed. */
  async reap(batch: number): Promise<{ lostNode: string; jobs: ClaimedJob[] } | null> {
    const [lost, ...jobs] = (await this.#run('reap', [this.#nodeId, String(batch)])) as Reply[];
    if (text(lost) === '') return null;
    return {
      lostNode: text(lost),
      jobs: (jobs as Reply[][]).map(([jobId, request, createdAtMs, attempt, webhook, watchers]) => {
        this.#attempts.set(numberOf(jobId), text(attempt));
        return claimedJob(numberOf(jobId), request, createdAtMs, webhook, watchers);
      }),
    };
  }

  onRemoved(listener: (jobId: number | null) => void): void {
    this.#removalListener = listener;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#connection.close();
  }

  get #webhookEventsKey(): string {
    return `${this.#prefix}whe:${this.#nodeId}`;
  }

  /** `node, attempt` of this node's claim on a job, for the scripts' fence. */
  #fence(jobId: number): [string, string] {
    return [this.#nodeId, this.#attempts.get(jobId) ?? ''];
  }

  #run(name: Parameters<RedisConnection['run']>[0], args: ReadonlyArray<string | Buffer>): Promise<Reply> {
    return this.#connection.run(name, [this.#prefix, ...args]);
  }

  /**
   * The engine's writes (a job started, finished, was cancelled): a job's outcome must not be
   * lost to a Redis restart, so they are tried again, 100 ms apart and then up to 1 s, until
   * Redis takes them or the store is closed. A client's calls are not: they answer 503 at once.
   */
  async #untilCommitted(name: Parameters<RedisConnection['run']>[0], args: ReadonlyArray<string | Buffer>): Promise<Reply> {
    for (let waitMs = 100; ; waitMs = Math.min(waitMs * 2, 1000)) {
      try {
        return await this.#run(name, args);
      } catch (error) {
        if (!(error instanceof RedisUnavailableError) || this.#closed) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }

  /** Drops the start-log entries of jobs this node no longer has pending (see StartLogs.compact). */
  async #compactStartLogs(nowMs: number): Promise<void> {
    if (this.#startLogs === null || !this.#startLogs.compactionDue(nowMs)) return;
    const claimed = (await this.#connection.command(['SMEMBERS', `${this.#prefix}cl:${this.#nodeId}`])) as Reply[];
    const pending = new Set(claimed.map(numberOf));
    this.#startLogs.compact((jobId) => pending.has(jobId));
  }
}

/** How long a job's start waits to be written, in case its end comes first. */
const START_DELAY_MS = 10;

/** A full shared queue is the engine's queue-full error: the front answers it as ArangoDB does. */
function rethrowQueueFull(error: unknown): never {
  if ((error as Error).message?.startsWith('ERR_QUEUE_FULL')) {
    throw Object.assign(new Error((error as Error).message.slice('ERR_QUEUE_FULL '.length)), { code: 'ERR_QUEUE_FULL' });
  }
  throw error;
}

/** `user, superuser` as the scripts take them. */
function callerArgs(caller: Caller): [string, string] {
  return [caller.username, caller.superuser ? '1' : '0'];
}

/** The hash field of an idempotency key: owner and key, which may hold any character but NUL. */
function idempotencyName(owner: string, key: string): string {
  return `${owner}\0${key}`;
}

function encodeRequest(request: StoredRequest): Buffer {
  return pack([request.method, request.path, request.query, request.headers, request.body, request.user]);
}

function decodeRequest(bytes: Buffer): StoredRequest {
  const [method, path, query, headers, body, user] = unpack(bytes) as [string, string, string, string[], Uint8Array | null, StoredRequest['user']];
  return { method, path, query, headers, body: body === null ? null : plainBytes(body), user };
}

function claimedJob(jobId: number, request: Reply, createdAtMs: Reply, webhook: Reply, watchers: Reply): ClaimedJob {
  return {
    jobId,
    request: decodeRequest(request as Buffer),
    createdAtMs: numberOf(createdAtMs),
    webhook: webhook === null ? null : decodeWebhook(webhook as Buffer),
    watchers: ((watchers ?? []) as Reply[]).map(text),
  };
}

function decodeWebhook(bytes: Buffer): WebhookRegistration {
  return copyWebhookRegistration(unpack(bytes) as WebhookRegistration);
}

function decodeDetails(bytes: Buffer): JobDetails {
  return unpack(bytes) as JobDetails;
}

/** A Uint8Array over the same bytes: Buffers are Uint8Arrays, but not equal to plain ones. */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}

/** `o st c s f oc r t` as history and views answer them (SUMMARY_FIELDS). */
const SUMMARY_WIDTH = 8;

function summaryFrom(jobId: number, fields: Reply[]): JobSummary {
  const [owner, status, created, started, finished, outcome, retention, type] = fields;
  const st = text(status);
  const finishedAtMs = numberOf(finished);
  const retentionMs = numberOf(retention);
  const pending = st === 'q' || st === 'r';
  return {
    jobId,
    owner: text(owner),
    state: pending ? 'pending' : st === 'x' ? 'cancelled' : 'done',
    createdAtMs: numberOf(created),
    startedAtMs: numberOf(started),
    finishedAtMs: pending ? 0 : finishedAtMs,
    outcome: outcome === null ? null : (text(outcome) as JobOutcome),
    expiresAtMs: !pending && retentionMs > 0 ? finishedAtMs + retentionMs : 0,
    type: type === null ? null : text(type),
  };
}

/**
 * A view from VIEW_FIELDS: the summary's, then `rh rb dt ld n`; a pending job's details are the
 * live ones its node wrote. `nodeHeader`: the result says which node ran it (from `n`, not
 * stored with each result: a shorter `rh` keeps a job's hash in Redis's compact encoding).
 */
function viewOf(jobId: number, fields: Reply[], nodeHeader: boolean): JobView {
  const summary = summaryFrom(jobId, fields.slice(0, SUMMARY_WIDTH));
  const [statusAndHeaders, body, stored, live, node, webhook, deliveries] = fields.slice(SUMMARY_WIDTH);
  const details = summary.state === 'pending' ? live ?? null : stored;
  let result: StoredResult | null = null;
  if (summary.state === 'done' && statusAndHeaders !== null) {
    const [status, storedHeaders] = unpack(statusAndHeaders as Buffer) as [number, string[]];
    const ranOn = nodeHeader ? text(node) : '';
    const headers = ranOn === '' ? storedHeaders : [...storedHeaders, 'x-arango-async-node', ranOn];
    result = { status, headers, body: body === null ? null : plainBytes(body as Buffer) };
  }
  const view: JobView = { ...summary, result, details: details === null ? null : decodeDetails(details as Buffer) };
  if (webhook !== null && webhook !== undefined) {
    // Never the secret: only what a status answer shows.
    const { url, events } = decodeWebhook(webhook as Buffer);
    view.webhook = { url, events, deliveries: deliveries === null || deliveries === undefined ? [] : unpack(deliveries as Buffer) as Record<string, unknown>[] };
  }
  return view;
}
