/** Removed jobs remembered for their owner: the operations surface answers 410 for them, not 404. */
const DEFAULT_CAPACITY = 100_000;

/**
 * The most recently removed jobs (fetched, deleted or expired), each with its owner and, when
 * it expired, when: a ring of typed arrays, oldest overwritten first, plus a Map from job id to
 * its place. About 30 bytes a job; the Map costs one set (and one delete once full) per removal.
 *
 * The owner is kept so that a gone job answers 410 only to whoever could see it: to anyone
 * else it answers as an id that never existed, so nobody learns which ids are other users'.
 */
export class GoneJobs {
  readonly #capacity: number;
  readonly #jobIds: Float64Array;
  readonly #owners: Int32Array;
  readonly #expiredAtMs: Float64Array;
  readonly #placeByJobId = new Map<number, number>();
  #next = 0;

  constructor(capacity = DEFAULT_CAPACITY) {
    this.#capacity = capacity;
    this.#jobIds = new Float64Array(capacity);
    this.#owners = new Int32Array(capacity);
    this.#expiredAtMs = new Float64Array(capacity);
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** `expiredAtMs` is 0 for a job fetched or deleted rather than expired. */
  record(jobId: number, ownerIndex: number, expiredAtMs: number): void {
    const place = this.#next;
    this.#next = place + 1 === this.#capacity ? 0 : place + 1;
    const evicted = this.#jobIds[place];
    if (evicted !== 0 && this.#placeByJobId.get(evicted) === place) this.#placeByJobId.delete(evicted);
    this.#jobIds[place] = jobId;
    this.#owners[place] = ownerIndex;
    this.#expiredAtMs[place] = expiredAtMs;
    this.#placeByJobId.set(jobId, place);
  }

  /** The owner index of a remembered job, or -1. */
  ownerOf(jobId: number): number {
    const place = this.#placeByJobId.get(jobId);
    return place === undefined ? -1 : this.#owners[place];
  }

  /** When a remembered job expired; 0 when it was fetched or deleted, or is not remembered. */
  expiredAtOf(jobId: number): number {
    const place = this.#placeByJobId.get(jobId);
    return place === undefined ? 0 : this.#expiredAtMs[place];
  }
}
