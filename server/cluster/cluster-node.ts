import { setTimeout as delay } from 'node:timers/promises';
import type { Engine } from '../../engine/index.js';
import { JOB_ENDINGS } from '../errors/index.js';
import { ANY_OWNER } from '../auth/index.js';
import { errorResult, recoverUnfinishedJobs, rerunStoredJob, type JobDetails, type JobRecorder } from '../jobs/index.js';
import { RedisConnection, type RedisJobStore, type Reply } from '../stores/redis/index.js';
import type { Logger } from 'pino';
import type { WebhookRegistration } from '../jobs/index.js';
import type { ClusterWatches } from './cluster-watches.js';

/** A lease lasts this long unless renewed; a node renews it every RENEW_MS. */
export const LEASE_MS = 10_000;
const RENEW_MS = 2_000;
/** How often a node looks for lapsed leases (and queue entries a lost node had read). */
const REAP_MS = 1_000;
/** Jobs one reap takes over at once. */
const REAP_BATCH = 500;
/** How long one XREADGROUP / XREAD waits for an entry before it looks again. */
const BLOCK_MS = 1_000;
/** A full node looks again for free capacity this often. */
const FULL_POLL_MS = 5;
/** After Redis refused, wait this long before reading again. */
const RETRY_MS = 250;
/** Queue entries read by a node and unclaimed this long belong to a lost node: another takes them. */
const STALE_ENTRY_MS = LEASE_MS;
const GROUP = 'workers';

export interface ClusterNodeOptions {
  store: RedisJobStore;
  engine: Engine;
  recorder: JobRecorder;
  url: string;
  /** Jobs the engine runs at once (threads × concurrency per worker): the node takes queued work up to it. */
  capacity: number;
  /** The local cancel (recorded, logged, timed): false when the engine does not hold the job. */
  cancelLocal: (jobId: number, reason: string) => boolean;
  /** Watchers of jobs run elsewhere, and forwarding to other nodes' watchers of jobs run here. */
  watches: ClusterWatches;
  /** A job taken here from the queue or a lost node registered a webhook: this node delivers its events. */
  registerWebhook: (jobId: number, webhook: WebhookRegistration) => void;
  logger: Logger;
}

/**
 * What makes a node one of a cluster, beyond the shared store: it takes jobs from the shared
 * queue while it has free workers, reads its inbox for cancels of jobs it runs, holds a lease
 * and takes over the jobs of nodes whose lease lapsed. The queue and the inbox are read on
 * connections of their own, as blocking reads would hold up the store's other commands.
 *
 * The inbox is a Redis Stream read from a cursor this process keeps (entries are deleted once
 * handled), so a cancel sent while the connection was down is read once it is back; plain
 * pub/sub would drop it.
 */
export class ClusterNode {
  readonly #options: ClusterNodeOptions;
  readonly #queue: RedisConnection;
  readonly #inbox: RedisConnection;
  readonly #prefix: string;
  readonly #timers: NodeJS.Timeout[] = [];
  #closed = false;
  #reaping = false;
  /** Jobs taken from the queue and not yet handed to the engine. */
  #claiming = 0;

  private constructor(options: ClusterNodeOptions, queue: RedisConnection, inbox: RedisConnection) {
    this.#options = options;
    this.#queue = queue;
    this.#inbox = inbox;
    this.#prefix = options.store.prefix;
  }

  /** Takes the lease, makes sure the queue's consumer group exists, and starts reading. */
  static async start(options: ClusterNodeOptions): Promise<ClusterNode> {
    const name = `${options.store.prefix}${options.store.nodeId}`;
    const onError = (error: Error): void => options.logger.debug({ err: error }, 'cluster connection lost');
    const queue = await RedisConnection.open({ url: options.url, name: `${name}:queue`, onError });
    const inbox = await RedisConnection.open({ url: options.url, name: `${name}:inbox`, onError });
    const node = new ClusterNode(options, queue, inbox);
    await options.store.renewLease(LEASE_MS);
    await node.#createGroup();
    node.#timers.push(setInterval(() => node.#renew(), RENEW_MS), setInterval(() => node.#reap(), REAP_MS));
    for (const timer of node.#timers) timer.unref();
    void node.#pullQueue();
    void node.#readInbox();
    return node;
  }

  /** True while the node has a free worker: a stored job it accepts then runs here instead of going to the queue. */
  hasFreeCapacity(): boolean {
    return this.#held() < this.#options.capacity;
  }

  /**
   * A client's cancel of a job this node's engine does not hold: its node is told through its
   * inbox, or, still in the queue, it is cancelled in the store at once.
   */
  async cancelElsewhere(jobId: number, reason: string): Promise<void> {
    const { store } = this.#options;
    const outcome = await store.cancelRemote(jobId, reason, ANY_OWNER);
    if (outcome !== 'queued') return;
    const nowMs = Date.now();
    const details: JobDetails = { progress: null, warnings: null, logs: null, attempts: null, cancel: { atMs: nowMs, reason }, failure: null };
    if (!(await store.cancelQueued(jobId, nowMs, details))) {
      // Claimed between the two calls: its node has it now.
      await store.cancelRemote(jobId, reason, ANY_OWNER);
    }
  }

  /** Stops reading and gives the lease up (the node's unfinished jobs stay claimed: it takes them back when it restarts). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#queue.destroy();
    this.#inbox.destroy();
  }

  #held(): number {
    const stats = this.#options.engine.stats;
    return stats.queuedJobCount + stats.runningJobCount + this.#claiming;
  }

  async #createGroup(): Promise<void> {
    try {
      await this.#options.store.connection.command(['XGROUP', 'CREATE', `${this.#prefix}q`, GROUP, '0', 'MKSTREAM']);
    } catch (error) {
      if (!(error as Error).message.includes('BUSYGROUP')) throw error;
    }
  }

  #renew(): void {
    this.#options.store.renewLease(LEASE_MS).catch((error: Error) => this.#options.logger.warn({ err: error }, 'could not renew the cluster lease'));
  }

  async #pullQueue(): Promise<void> {
    while (!this.#closed) {
      const free = this.#options.capacity - this.#held();
      if (free <= 0) {
        await delay(FULL_POLL_MS);
        continue;
      }
      let reply: Reply;
      try {
        reply = await this.#queue.command([
          'XREADGROUP', 'GROUP', GROUP, this.#options.store.nodeId, 'COUNT', String(free), 'BLOCK', String(BLOCK_MS),
          'STREAMS', `${this.#prefix}q`, '>',
        ], BLOCK_MS + 5_000);
      } catch (error) {
        if (this.#closed) return;
        if ((error as Error).message.includes('NOGROUP')) await this.#createGroup().catch(() => undefined);
        else await delay(RETRY_MS);
        continue;
      }
      if (reply === null) continue;
      for (const read of streamEntries(reply)) {
        const entries = queueEntries(read);
        // A read waits up to BLOCK_MS: jobs this node took on meanwhile (its own submissions)
        // may have filled the room it asked for. What does not fit goes back to the queue, for
        // a node with a free worker, rather than wait here behind them.
        const room = Math.max(0, this.#options.capacity - this.#held());
        if (entries.length > room) this.#giveBack(entries.slice(room));
        await this.#claimAll(entries.slice(0, room));
      }
    }
  }

  /** Claims each stored job's entry and hands the jobs still unclaimed to the engine; runs each fire-and-forget request. */
  async #claimAll(entries: readonly QueueItem[]): Promise<void> {
    const { store, engine, recorder, watches, logger } = this.#options;
    const stored: QueueItem[] = [];
    for (const entry of entries) {
      if (entry.field === 'f') this.#runFire(entry.entryId, entry.value);
      else stored.push(entry);
    }
    this.#claiming += stored.length;
    const claims = stored.map(({ entryId, value }) => {
      const jobId = Number(String(value));
      watches.claiming(jobId);
      return store.claimQueued({ entryId, jobId }).catch((error: Error) => {
        logger.warn({ err: error, jobId }, 'could not claim a queued job: another node takes it once its entry is stale');
        return null;
      });
    });
    for (const [index, claim] of claims.entries()) {
      const job = await claim;
      this.#claiming--;
      if (job === null) {
        watches.claimed(Number(String(stored[index].value)), []);
        continue;
      }
      if (job.webhook !== null) this.#options.registerWebhook(job.jobId, job.webhook);
      const refused = rerunStoredJob(engine, recorder, job.jobId, job.createdAtMs, job.request);
      watches.claimed(job.jobId, job.watchers);
      if (refused !== null) {
        logger.warn({ jobId: job.jobId, reason: refused.message }, 'a job taken from the shared queue could not run here');
        await store.finish(job.jobId, errorResult(refused), Date.now(), 'failed').catch(() => undefined);
      }
    }
  }

  #giveBack(entries: readonly QueueItem[]): void {
    for (const { entryId, field, value } of entries) {
      this.#options.store.giveBack(entryId, field, value)
        .catch((error: Error) => this.#options.logger.warn({ err: error }, 'could not give a queue entry back: another node takes it once it is stale'));
    }
  }

  /** A fire-and-forget request from the shared queue: run here once taken (at most once: a node lost after taking it loses it). */
  #runFire(entryId: string, bytes: Buffer): void {
    const { store, engine, logger } = this.#options;
    this.#claiming++;
    store.takeFire(entryId, bytes).then((request) => {
      this.#claiming--;
      if (request === null) return;
      const match = engine.routes.match(request.method, request.path);
      if (match.kind !== 'found') return logger.warn({ method: request.method, path: request.path }, 'a fire-and-forget request from the shared queue has no route here');
      try {
        engine.submit(match.routeIndex, { ...request, user: request.user ?? null }, true);
      } catch (error) {
        logger.warn({ err: error, path: request.path }, 'a fire-and-forget request from the shared queue could not run here');
      }
    }, (error: Error) => {
      this.#claiming--;
      logger.warn({ err: error }, 'could not take a fire-and-forget request: another node takes it once its entry is stale');
    });
  }

  async #readInbox(): Promise<void> {
    const key = `${this.#prefix}in:${this.#options.store.nodeId}`;
    let cursor = '0-0';
    while (!this.#closed) {
      let reply: Reply;
      try {
        reply = await this.#inbox.command(['XREAD', 'COUNT', '100', 'BLOCK', String(BLOCK_MS), 'STREAMS', key, cursor], BLOCK_MS + 5_000);
      } catch {
        if (this.#closed) return;
        await delay(RETRY_MS);
        continue;
      }
      if (reply === null) continue;
      const handled: string[] = [];
      for (const entries of streamEntries(reply)) {
        for (const entry of entries) {
          const [entryId, fields] = entry as [Buffer, Reply[]];
          cursor = String(entryId);
          handled.push(cursor);
          const message = fieldsOf(fields);
          if (message.cancel !== undefined) this.#options.cancelLocal(Number(message.cancel), message.reason ?? '');
          else this.#options.watches.handle(message);
        }
      }
      if (handled.length > 0) this.#inbox.command(['XDEL', key, ...handled]).catch(() => undefined);
    }
  }

  /** Takes over the jobs of lost nodes (idempotent ones run again here, the others fail "node lost") and stale queue entries. */
  #reap(): void {
    if (this.#reaping || this.#closed) return;
    this.#reaping = true;
    this.#reapOnce().catch((error: Error) => this.#options.logger.warn({ err: error }, 'reaping lost nodes failed')).finally(() => {
      this.#reaping = false;
    });
  }

  async #reapOnce(): Promise<void> {
    const { store, engine, recorder, logger } = this.#options;
    for (;;) {
      const reaped = await store.reap(REAP_BATCH);
      if (reaped === null) break;
      if (reaped.jobs.length === 0) continue;
      for (const job of reaped.jobs) if (job.webhook !== null) this.#options.registerWebhook(job.jobId, job.webhook);
      const outcome = await recoverUnfinishedJobs(reaped.jobs.map((job) => ({
        jobId: job.jobId, owner: '', createdAtMs: job.createdAtMs, request: job.request, keepNoBody: false, webhook: job.webhook, dispatched: true,
      })), engine, recorder, JOB_ENDINGS.nodeLost);
      // The ones run again here: their watchers elsewhere hear from this node now (the failed ones' end told them).
      for (const job of reaped.jobs) this.#options.watches.claimed(job.jobId, job.watchers);
      logger.warn({ lostNode: reaped.lostNode, ...outcome }, 'took over the jobs of a node whose lease lapsed');
    }
    // Entries a lost node had read and never claimed.
    const stale = (await store.connection.command([
      'XAUTOCLAIM', `${this.#prefix}q`, GROUP, store.nodeId, String(STALE_ENTRY_MS), '0-0', 'COUNT', '100',
    ])) as Reply[];
    const entries = queueEntries((stale?.[1] as Reply[] | undefined) ?? []);
    if (entries.length > 0) await this.#claimAll(entries);
  }
}

/** One entry of the shared queue: `id JOBID` (a stored job) or `f REQUEST` (a fire-and-forget request). */
interface QueueItem {
  entryId: string;
  field: string;
  value: Buffer;
}

/** `[entryId, [field, value]]` entries as XREADGROUP and XAUTOCLAIM give them; one deleted meanwhile (no fields) is left out. */
function queueEntries(entries: readonly Reply[]): QueueItem[] {
  const items: QueueItem[] = [];
  for (const entry of entries) {
    const [entryId, fields] = entry as [Buffer, Reply[] | null];
    if (fields !== null) items.push({ entryId: String(entryId), field: String(fields[0]), value: fields[1] as Buffer });
  }
  return items;
}

/** The entries of each stream of an XREAD / XREADGROUP reply: a map over RESP3, pairs over RESP2. */
function streamEntries(reply: Reply): Reply[][] {
  if (Array.isArray(reply)) return (reply as Reply[][]).map((pair) => pair[1] as Reply[]);
  return Object.values(reply as unknown as Record<string, Reply[]>);
}

function fieldsOf(fields: readonly Reply[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let index = 0; index + 1 < fields.length; index += 2) record[String(fields[index])] = String(fields[index + 1]);
  return record;
}

