/**
 * Fixed-size log-linear histogram of latencies in microseconds: exact below
 * 64 µs, then 32 buckets per power of two (about 3% error), up to 2^31 µs.
 * Recording never allocates, so it does not disturb the load generator.
 */
const LINEAR_LIMIT = 64;
const SUB_BUCKET_BITS = 5;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
const MAX_RECORDABLE_MICROS = 2 ** 31 - 1;
/** Shifts 1..25 cover 64 µs up to 2^31 µs. */
const BUCKET_COUNT = LINEAR_LIMIT + (30 - SUB_BUCKET_BITS) * SUB_BUCKETS;

function bucketIndex(micros: number): number {
  const value = Math.min(Math.max(Math.round(micros), 0), MAX_RECORDABLE_MICROS);
  if (value < LINEAR_LIMIT) return value;
  const shift = 31 - Math.clz32(value) - SUB_BUCKET_BITS;
  return LINEAR_LIMIT + (shift - 1) * SUB_BUCKETS + ((value >>> shift) - SUB_BUCKETS);
}

/** The middle of a bucket's range, the best single value to report for it. */
function bucketMidpoint(index: number): number {
  if (index < LINEAR_LIMIT) return index;
  const shift = Math.floor((index - LINEAR_LIMIT) / SUB_BUCKETS) + 1;
  const subBucket = ((index - LINEAR_LIMIT) % SUB_BUCKETS) + SUB_BUCKETS;
  return subBucket * 2 ** shift + 2 ** (shift - 1);
}

export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKET_COUNT);
  #count = 0;
  #maxMicros = 0;

  get count(): number {
    return this.#count;
  }

  get maxMicros(): number {
    return this.#maxMicros;
  }

  record(micros: number): void {
    this.#counts[bucketIndex(micros)] += 1;
    this.#count += 1;
    if (micros > this.#maxMicros) this.#maxMicros = micros;
  }

  /** The latency below which `fraction` (0..1) of the recorded values fall; 0 when empty. */
  percentileMicros(fraction: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.#count));
    let seen = 0;
    for (let index = 0; index < BUCKET_COUNT; index += 1) {
      seen += this.#counts[index];
      if (seen >= rank) return Math.min(bucketMidpoint(index), this.#maxMicros);
    }
    return this.#maxMicros;
  }
}
