/** How many deliveries may be in flight and waiting (see `WebhookDispatcherOptions`). */
export interface WebhookQueueLimits {
  /** Attempts in flight at once, all origins together. */
  maxConcurrent: number;
  /** Attempts in flight at once to one origin. */
  maxPerHost: number;
  /** Deliveries waiting for a slot, all origins together. */
  maxQueued: number;
}

/** The in-flight count and waiting line of one origin; it exists while either is non-zero. */
interface HostLine<Item> {
  readonly host: string;
  inFlight: number;
  /** FIFO: a Set keeps insertion order and makes withdrawing one item O(1). */
  readonly waiting: Set<Item>;
}

/**
 * Admission of webhook attempts: at most `maxConcurrent` in flight, at most `maxPerHost` per
 * origin, the rest waiting. Free slots go to the origins with waiting items in turn (round
 * robin), so a receiver that hangs until the timeout holds at most `maxPerHost` slots and its
 * backlog never delays another origin's deliveries.
 *
 * When more than `maxQueued` items wait, the oldest item of the origin with the longest line is
 * dropped: the origin that floods the queue pays for it, not the quiet ones.
 *
 * `start` and `drop` are called synchronously from `push` and `release`; `start` must not call
 * back into the queue before it returns (the dispatcher's attempts are asynchronous).
 */
export class WebhookQueue<Item> {
  readonly #limits: WebhookQueueLimits;
  readonly #start: (item: Item) => void;
  readonly #drop: (item: Item) => void;
  readonly #hosts = new Map<string, HostLine<Item>>();
  /** Lines with waiting items and a free per-origin slot, in the order they get the next free slot. */
  readonly #ready = new Set<HostLine<Item>>();
  #inFlight = 0;
  #waiting = 0;

  constructor(limits: WebhookQueueLimits, start: (item: Item) => void, drop: (item: Item) => void) {
    this.#limits = limits;
    this.#start = start;
    this.#drop = drop;
  }

  /** Attempts started and not yet released. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Items waiting for a slot. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Starts `item` now if the limits allow, else queues it behind the origin's earlier items (and may drop one). */
  push(host: string, item: Item): void {
    const line = this.#lineOf(host);
    if (line.waiting.size === 0 && line.inFlight < this.#limits.maxPerHost && this.#inFlight < this.#limits.maxConcurrent) {
      this.#run(line, item);
      return;
    }
    line.waiting.add(item);
    this.#waiting += 1;
    if (line.inFlight < this.#limits.maxPerHost) this.#ready.add(line);
    if (this.#waiting > this.#limits.maxQueued) this.#dropOldestOfLongestLine();
  }

  /** Removes a waiting item (its delivery was cancelled); false when it was not waiting. */
  withdraw(host: string, item: Item): boolean {
    const line = this.#hosts.get(host);
    if (line === undefined || !line.waiting.delete(item)) return false;
    this.#waiting -= 1;
    this.#settle(line);
    return true;
  }

  /** An item that `start` was called for has finished: its slot goes to the next waiting item. */
  release(host: string): void {
    const line = this.#hosts.get(host)!;
    line.inFlight -= 1;
    this.#inFlight -= 1;
    if (line.waiting.size > 0) this.#ready.add(line);
    this.#settle(line);
    this.#pump();
  }

  /** Removes every waiting item without starting or dropping it (the dispatcher is closing). */
  clear(): void {
    for (const line of this.#hosts.values()) line.waiting.clear();
    this.#ready.clear();
    this.#waiting = 0;
    for (const line of [...this.#hosts.values()]) this.#settle(line);
  }

  #pump(): void {
    while (this.#inFlight < this.#limits.maxConcurrent) {
      const line = this.#ready.values().next().value;
      if (line === undefined) return;
      // Deleting and re-adding moves the line to the end: the next free slot goes to another origin.
      this.#ready.delete(line);
      const item = line.waiting.values().next().value!;
      line.waiting.delete(item);
      this.#waiting -= 1;
      this.#run(line, item);
      if (line.waiting.size > 0 && line.inFlight < this.#limits.maxPerHost) this.#ready.add(line);
    }
  }

  #run(line: HostLine<Item>, item: Item): void {
    line.inFlight += 1;
    this.#inFlight += 1;
    this.#start(item);
  }

  #dropOldestOfLongestLine(): void {
    // O(origins), and only on overflow; the origins with waiting deliveries are few in practice.
    let longest: HostLine<Item> | undefined;
    for (const line of this.#hosts.values()) if (longest === undefined || line.waiting.size > longest.waiting.size) longest = line;
    const item = longest!.waiting.values().next().value!;
    longest!.waiting.delete(item);
    this.#waiting -= 1;
    this.#settle(longest!);
    this.#drop(item);
  }

  #lineOf(host: string): HostLine<Item> {
    let line = this.#hosts.get(host);
    if (line === undefined) {
      line = { host, inFlight: 0, waiting: new Set() };
      this.#hosts.set(host, line);
    }
    return line;
  }

  /** Unlists a line with nothing waiting from the ready set, and forgets it once it is idle too. */
  #settle(line: HostLine<Item>): void {
    if (line.waiting.size > 0) return;
    this.#ready.delete(line);
    if (line.inFlight === 0) this.#hosts.delete(line.host);
  }
}
