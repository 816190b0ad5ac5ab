import { RedisUnavailableError, type RedisConnection } from '../stores/redis/index.js';

/** Ids taken from Redis at a time: one round trip per thousand stored jobs. */
const BLOCK_SIZE = 1000;

/**
 * The ids of stored jobs in a cluster: unique across every node, decimal strings below 2^53,
 * and above every id of earlier runs (the shared counter is first raised to Redis's clock ×
 * 1000, `firstJobIdAt`). Each node reserves blocks of ids with one `INCRBY` and hands them out
 * without a round trip; the next block is fetched once half of the current one is used, so
 * `take` only runs dry when Redis is unreachable, and then throws `ERR_STORE_UNAVAILABLE` (the
 * request answers 503). Ids of different nodes interleave by block, so ids order jobs by time
 * only roughly across nodes (exactly within one).
 */
export class ClusterIds {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  #next = 0;
  #end = 0;
  /** The block fetched ahead: [first, end). */
  #spare: [number, number] | null = null;
  #fetching: Promise<void> | null = null;

  private constructor(connection: RedisConnection, prefix: string) {
    this.#connection = connection;
    this.#prefix = prefix;
  }

  /** `prefix` ends with `:` (the store's). Resolves once the first block is reserved. */
  static async start(connection: RedisConnection, prefix: string): Promise<ClusterIds> {
    const ids = new ClusterIds(connection, prefix);
    await ids.#fetch();
    ids.#useSpare();
    return ids;
  }

  /** The next id; throws RedisUnavailableError when no id is left and Redis could not be reached. */
  take(): number {
    if (this.#next >= this.#end && !this.#useSpare()) {
      this.#prefetch();
      throw new RedisUnavailableError('no job id on hand: Redis could not be reached to reserve more');
    }
    const jobId = this.#next++;
    if (this.#spare === null && this.#end - this.#next < BLOCK_SIZE / 2) this.#prefetch();
    return jobId;
  }

  #useSpare(): boolean {
    if (this.#spare === null) return false;
    [this.#next, this.#end] = this.#spare;
    this.#spare = null;
    return true;
  }

  #prefetch(): void {
    this.#fetch().catch(() => undefined); // retried at the next take
  }

  #fetch(): Promise<void> {
    this.#fetching ??= this.#connection.run('reserveIds', [this.#prefix, String(BLOCK_SIZE)]).then(
      (last) => {
        const end = Number(last) + 1;
        this.#spare = [end - BLOCK_SIZE, end];
        this.#fetching = null;
      },
      (error: unknown) => {
        this.#fetching = null;
        throw error;
      },
    );
    return this.#fetching;
  }
}
