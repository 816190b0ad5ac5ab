import { INITIAL_SLOTS, NIL as SHARED_NIL } from './slot-arrays.js';

// A local copy, which V8 reads faster: see NIL in slot-arrays.ts.
const NIL = SHARED_NIL;

/** Entries per bucket above which the index doubles. */
const MAX_INDEX_LOAD = 0.75;
const GOLDEN_RATIO_32 = 0x9e3779b9;
const TWO_TO_32 = 2 ** 32;

/**
 * Job id to slot: open addressing with linear probing over `[jobId, slot + 1]` pairs in
 * one Float64Array (0 marks an empty bucket). It replaces a Map, which at a million
 * entries cost about 300 ns per add plus remove (V8 rebuilds the whole table as deleted
 * entries pile up) and several cache misses per lookup; here a lookup is usually one.
 * Removal shifts later entries back instead of leaving tombstones. Fibonacci hashing
 * scatters consecutive ids: keeping them adjacent (identity hashing) made in-order
 * fetches faster but turned ids left unfetched into long probe runs.
 */
export class JobIdIndex {
  #pairs = new Float64Array(2 * INITIAL_SLOTS);
  #mask = INITIAL_SLOTS - 1;
  #shift = 32 - Math.log2(INITIAL_SLOTS);
  #count = 0;

  get size(): number {
    return this.#count;
  }

  /** The job's slot, or NIL. */
  get(jobId: number): number {
    const bucket = this.#find(jobId);
    return bucket === NIL ? NIL : this.#pairs[2 * bucket + 1] - 1;
  }

  /** Adds a job id that is not in the index (ids are never reused). */
  set(jobId: number, slot: number): void {
    if (this.#count + 1 > MAX_INDEX_LOAD * (this.#mask + 1)) this.#rehash(2 * (this.#mask + 1));
    this.#insert(jobId, slot + 1);
    this.#count++;
  }

  delete(jobId: number): void {
    let hole = this.#find(jobId);
    if (hole === NIL) return;
    const pairs = this.#pairs;
    const mask = this.#mask;
    for (let bucket = (hole + 1) & mask; pairs[2 * bucket + 1] !== 0; bucket = (bucket + 1) & mask) {
      // An entry may fill the hole only if the hole lies between its home and where it is.
      const home = this.#home(pairs[2 * bucket]);
      if (((bucket - home) & mask) >= ((bucket - hole) & mask)) {
        pairs[2 * hole] = pairs[2 * bucket];
        pairs[2 * hole + 1] = pairs[2 * bucket + 1];
        hole = bucket;
      }
    }
    pairs[2 * hole] = 0;
    pairs[2 * hole + 1] = 0;
    this.#count--;
  }

  clear(): void {
    this.#pairs = new Float64Array(2 * INITIAL_SLOTS);
    this.#mask = INITIAL_SLOTS - 1;
    this.#shift = 32 - Math.log2(INITIAL_SLOTS);
    this.#count = 0;
  }

  #find(jobId: number): number {
    for (let bucket = this.#home(jobId); ; bucket = (bucket + 1) & this.#mask) {
      if (this.#pairs[2 * bucket + 1] === 0) return NIL;
      if (this.#pairs[2 * bucket] === jobId) return bucket;
    }
  }

  #home(jobId: number): number {
    // Ids are safe integers: `>>> 0` keeps the low 32 bits, the division the rest.
    const mixed = (jobId >>> 0) ^ Math.imul((jobId / TWO_TO_32) >>> 0, GOLDEN_RATIO_32);
    return Math.imul(mixed, GOLDEN_RATIO_32) >>> this.#shift;
  }

  #insert(jobId: number, storedSlot: number): void {
    let bucket = this.#home(jobId);
    while (this.#pairs[2 * bucket + 1] !== 0) bucket = (bucket + 1) & this.#mask;
    this.#pairs[2 * bucket] = jobId;
    this.#pairs[2 * bucket + 1] = storedSlot;
  }

  #rehash(bucketCount: number): void {
    const old = this.#pairs;
    this.#pairs = new Float64Array(2 * bucketCount);
    this.#mask = bucketCount - 1;
    this.#shift = 32 - Math.log2(bucketCount);
    for (let index = 0; index < old.length; index += 2) if (old[index + 1] !== 0) this.#insert(old[index], old[index + 1]);
  }
}
