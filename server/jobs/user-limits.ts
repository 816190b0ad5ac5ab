/** What each user may take of the server, as `--server.max-queued-per-user` and friends set it. */
export interface UserLimitsOptions {
  /** Jobs of one user waiting for a worker; 0 for no bound of its own (the global queue still applies). */
  maxQueuedPerUser: number;
  /** Stored jobs (queued, running or finished and not yet fetched) of one user; 0 for none (ArangoDB's rule). */
  maxStoredPerUser: number;
  /** Jobs one user may submit per second on average; 0 for no rate limit. */
  ratePerSecond: number;
}

/** Why a user's submission is refused (HTTP 429), and when trying again makes sense. */
export interface LimitRefusal {
  retryAfterSeconds: number;
  message: string;
}

/**
 * A token bucket holding up to one second's worth of submissions: a user may send
 * `ratePerSecond` jobs at once, then one per `1 / ratePerSecond` s.
 */
interface RateBucket {
  tokens: number;
  updatedAtMs: number;
}

/**
 * Per-user shares of the server, so that one user cannot take everything from the others: a
 * share of the queue (jobs waiting for a worker), a bound on stored results, and a
 * submission rate. Each limit refuses only the user over it. Cost when no limit is set: one
 * branch per submit and per job event.
 */
export class UserLimits {
  readonly #options: UserLimitsOptions;
  /** Owners of jobs that have not started yet, by job id (only while a queue share is set). */
  readonly #queuedOwners = new Map<number, string>();
  readonly #queuedCounts = new Map<string, number>();
  readonly #buckets = new Map<string, RateBucket>();

  constructor(options: UserLimitsOptions) {
    this.#options = options;
  }

  get enabled(): boolean {
    const { maxQueuedPerUser, maxStoredPerUser, ratePerSecond } = this.#options;
    return maxQueuedPerUser > 0 || maxStoredPerUser > 0 || ratePerSecond > 0;
  }

  /** True when a stored submit is checked against the caller's count of stored jobs. */
  get boundsStored(): boolean {
    return this.#options.maxStoredPerUser > 0;
  }

  /**
   * Checks a submission of `username` and, when it may go ahead, takes its rate token.
   * `storedCount` is how many jobs the user has stored; it is read only for a stored job.
   */
  admit(username: string, stores: boolean, storedCount: (username: string) => number, nowMs: number): LimitRefusal | null {
    const { maxQueuedPerUser, maxStoredPerUser, ratePerSecond } = this.#options;
    if (maxQueuedPerUser > 0 && (this.#queuedCounts.get(username) ?? 0) >= maxQueuedPerUser) {
      return { retryAfterSeconds: 1, message: `too many queued jobs: user "${username}" has ${maxQueuedPerUser} jobs waiting for a worker (--server.max-queued-per-user)` };
    }
    if (stores && maxStoredPerUser > 0 && storedCount(username) >= maxStoredPerUser) {
      return {
        retryAfterSeconds: 1,
        message: `too many stored jobs: user "${username}" has ${maxStoredPerUser} results not yet fetched or deleted (--server.max-stored-per-user); fetch or delete some first`,
      };
    }
    if (ratePerSecond > 0) {
      let bucket = this.#buckets.get(username);
      if (bucket === undefined) {
        bucket = { tokens: ratePerSecond, updatedAtMs: nowMs };
        this.#buckets.set(username, bucket);
      } else if (nowMs > bucket.updatedAtMs) {
        bucket.tokens = Math.min(ratePerSecond, bucket.tokens + ((nowMs - bucket.updatedAtMs) / 1000) * ratePerSecond);
        bucket.updatedAtMs = nowMs;
      }
      if (bucket.tokens < 1) {
        return {
          retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerSecond)),
          message: `rate limit exceeded: user "${username}" may submit ${ratePerSecond} jobs per second (--server.rate-limit)`,
        };
      }
      bucket.tokens -= 1;
    }
    return null;
  }

  /** The job was queued for `username`. */
  submitted(jobId: number, username: string): void {
    if (this.#options.maxQueuedPerUser === 0) return;
    this.#queuedOwners.set(jobId, username);
    this.#queuedCounts.set(username, (this.#queuedCounts.get(username) ?? 0) + 1);
  }

  /** The job started, or ended without starting (cancelled while queued): it waits no more. */
  leftQueue(jobId: number): void {
    if (this.#queuedOwners.size === 0) return;
    const username = this.#queuedOwners.get(jobId);
    if (username === undefined) return;
    this.#queuedOwners.delete(jobId);
    const count = this.#queuedCounts.get(username)! - 1;
    if (count === 0) this.#queuedCounts.delete(username);
    else this.#queuedCounts.set(username, count);
  }
}

/**
 * The queue share that applies when `--server.max-queued-per-user` is not given: a quarter of
 * the queue with authentication on, so that at least four users must be busy before the
 * queue is full; none with authentication off, where everyone is the same anonymous user.
 */
export function defaultQueuedPerUser(maximalQueueSize: number, authentication: boolean): number {
  return authentication ? Math.max(1, Math.floor(maximalQueueSize / 4)) : 0;
}
