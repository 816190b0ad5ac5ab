import type { Logger } from 'pino';
import { ANY_OWNER } from '../auth/index.js';
import type { JobRecorder } from '../jobs/index.js';
import { isFinalEvent, type OperationEvent, type OperationTracker, type OperationWatcher, type RemoteWatches } from '../operations/index.js';
import type { RedisJobStore, WatchPlace } from '../stores/redis/index.js';

/** A running job's live details (progress, log) reach the store at most this often, for other nodes' status answers. */
const LIVE_WRITE_MS = 250;
/** Events one forwarder holds while Redis is slow; beyond, log lines are dropped (status updates coalesce anyway). */
const MAX_QUEUED_EVENTS = 1_000;

/**
 * Forwards the events of one job this node runs to one other node that has watchers of it.
 * Status updates coalesce into the latest of an event-loop turn, as a congested stream
 * coalesces them on one node; log and retry events go in order. The final event is not sent:
 * the store tells every watching node when the job ends (`ended`), wherever and however it
 * ended, and that node builds it from the stored job.
 */
class Forwarder implements OperationWatcher {
  readonly jobId: number;
  readonly node: string;
  queue: OperationEvent[] = [];
  readonly #watches: ClusterWatches;

  constructor(jobId: number, node: string, watches: ClusterWatches) {
    this.jobId = jobId;
    this.node = node;
    this.#watches = watches;
  }

  push(event: OperationEvent): void {
    if (isFinalEvent(event)) return this.#watches.forget(this);
    const last = this.queue.length === 0 ? undefined : this.queue[this.queue.length - 1];
    if (event.event === 'status-update' && last?.event === 'status-update') this.queue[this.queue.length - 1] = event;
    else if (this.queue.length < MAX_QUEUED_EVENTS || event.event !== 'log') this.queue.push(event);
    this.#watches.schedule(this);
  }
}

export interface ClusterWatchesOptions {
  store: RedisJobStore;
  tracker: OperationTracker;
  recorder: JobRecorder;
  logger: Logger;
}

/**
 * SSE and WebSocket watchers of operations that run on another node, both ways. Watching: the
 * node registers in the store (`P w:ID`), which tells the running node through its inbox;
 * the running node forwards the job's events to the watching node's inbox, where they reach
 * the tracker's watchers (`OperationTracker.relay`); the job's end, wherever it happens, tells
 * each watching node (`ended`). A node that takes a job from the queue or from a lost node
 * learns its watchers from the claim. Inboxes are streams read from a cursor, so nothing is lost
 * while a connection is down.
 */
export class ClusterWatches implements RemoteWatches {
  readonly #options: ClusterWatchesOptions;
  /** jobId → watching node → its forwarder. */
  readonly #forwarders = new Map<number, Map<string, Forwarder>>();
  readonly #dirty = new Set<Forwarder>();
  #flushing = false;
  /** Jobs being claimed here, and nodes that asked to watch them before they reached the engine. */
  readonly #claiming = new Map<number, Set<string>>();
  /** Running jobs whose live details changed since they were last written. */
  readonly #liveChanged = new Set<number>();
  #liveTimer: NodeJS.Timeout | null = null;

  constructor(options: ClusterWatchesOptions) {
    this.#options = options;
  }

  // The watching node's side (the tracker calls these).

  watch(jobId: number): Promise<WatchPlace> {
    return this.#options.store.watchRemote(jobId);
  }

  unwatch(jobId: number): void {
    this.#options.store.unwatchRemote(jobId).catch((error: Error) => this.#options.logger.debug({ err: error, jobId }, 'could not unregister a watcher'));
  }

  /** An inbox message about watching: true when it was one. */
  handle(message: Readonly<Record<string, string>>): boolean {
    if (message.ev !== undefined) {
      this.#relay(Number(message.ev), message.e);
    } else if (message.ended !== undefined) {
      const jobId = Number(message.ended);
      this.#options.store.get(jobId, ANY_OWNER).then(
        (job) => this.#options.tracker.relayEnded(jobId, job),
        (error: Error) => this.#options.logger.warn({ err: error, jobId }, 'could not read a watched job that ended elsewhere'),
      );
    } else if (message.watch !== undefined) {
      this.#forward(Number(message.watch), message.node);
    } else if (message.unwatch !== undefined) {
      const forwarder = this.#forwarders.get(Number(message.unwatch))?.get(message.node);
      if (forwarder !== undefined) {
        this.forget(forwarder);
        this.#options.tracker.unwatch(forwarder.jobId, forwarder);
      }
    } else {
      return false;
    }
    return true;
  }

  // The running node's side.

  /** A job this node runs reported progress or logged: written to the store on the next tick of LIVE_WRITE_MS. */
  liveChanged(jobId: number): void {
    this.#liveChanged.add(jobId);
    if (this.#liveTimer !== null) return;
    this.#liveTimer = setTimeout(() => this.#writeLive(), LIVE_WRITE_MS);
    this.#liveTimer.unref();
  }

  #writeLive(): void {
    this.#liveTimer = null;
    const { store, tracker, logger } = this.#options;
    for (const jobId of this.#liveChanged) {
      const details = tracker.liveDetailsOf(jobId);
      if (details === null) continue;
      store.writeLive(jobId, details).catch((error: Error) => logger.debug({ err: error, jobId }, 'could not write a job\'s progress'));
    }
    this.#liveChanged.clear();
  }

  /** The cluster node is about to claim `jobId`: a watch request arriving before the job reaches the engine waits for it. */
  claiming(jobId: number): void {
    this.#claiming.set(jobId, new Set());
  }

  /** The claimed job (or, with `watchers` empty and it not running, the claim that failed) is settled: forward to its watchers. */
  claimed(jobId: number, watchers: readonly string[]): void {
    const early = this.#claiming.get(jobId);
    this.#claiming.delete(jobId);
    const self = this.#options.store.nodeId;
    for (const node of early === undefined ? watchers : [...watchers, ...early]) {
      if (node === self) this.#options.tracker.runsHere(jobId);
      else this.#forward(jobId, node);
    }
  }

  /** `node` watches `jobId`; forwarded only while this node runs it (else it ended, and the store told `node`). */
  #forward(jobId: number, node: string): void {
    const running = this.#options.recorder.runningStored(jobId);
    if (running === undefined) {
      this.#claiming.get(jobId)?.add(node);
      return;
    }
    let byNode = this.#forwarders.get(jobId);
    if (byNode?.has(node) === true) return;
    if (byNode === undefined) this.#forwarders.set(jobId, (byNode = new Map()));
    const forwarder = new Forwarder(jobId, node, this);
    byNode.set(node, forwarder);
    this.#options.tracker.watchHere(running, forwarder, Date.now());
  }

  /** @internal The forwarder's job ended or its node stopped watching. */
  forget(forwarder: Forwarder): void {
    const byNode = this.#forwarders.get(forwarder.jobId);
    if (byNode?.get(forwarder.node) !== forwarder) return;
    byNode.delete(forwarder.node);
    if (byNode.size === 0) this.#forwarders.delete(forwarder.jobId);
    this.#dirty.delete(forwarder);
  }

  /** @internal Sends what the forwarder holds at the end of this turn, one pipelined batch per node. */
  schedule(forwarder: Forwarder): void {
    this.#dirty.add(forwarder);
    if (this.#flushing) return;
    this.#flushing = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushing = false;
    const byNode = new Map<string, string[][]>();
    for (const forwarder of this.#dirty) {
      let messages = byNode.get(forwarder.node);
      if (messages === undefined) byNode.set(forwarder.node, (messages = []));
      for (const event of forwarder.queue) messages.push(['ev', String(forwarder.jobId), 'e', JSON.stringify(event)]);
      forwarder.queue = [];
    }
    this.#dirty.clear();
    for (const [node, messages] of byNode) {
      // Lost while Redis is down: the watchers still get the final event once it is back.
      this.#options.store.tell(node, messages).catch((error: Error) => this.#options.logger.debug({ err: error, node }, 'could not forward events'));
    }
  }

  #relay(jobId: number, json: string | undefined): void {
    if (json === undefined) return;
    let event: OperationEvent;
    try {
      event = JSON.parse(json) as OperationEvent;
    } catch {
      return;
    }
    this.#options.tracker.relay(jobId, event);
  }
}
