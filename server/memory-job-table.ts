import type { Caller } from './caller.js';
import type { JobState, JobTable, JobView, StoredResult } from './job-table.js';

/*
 * The default job table: everything in this process's memory, as ArangoDB keeps it.
 *
 * Jobs live in slots of a struct of arrays (one typed array per field, indexed by slot)
 * instead of one object per job: about 90 bytes of fields a job, no per-job objects on the
 * heap for the garbage collector to trace. JobIdIndex, an open-addressing hash table in
 * one typed array, finds the slot of a job id.
 *
 * Four families of doubly linked lists thread through the slots, so every list and expiry
 * call walks only what it returns:
 *   byId          all jobs, id order                          -> list('done') as superuser
 *   byOwnerId     one list per owner, id order                -> list('done') as a user
 *   byState       pending jobs in id order, finished jobs     -> list('pending'), removeExpired
 *                 in finish order (a slot is in one of them)
 *   byOwnerState  the same two lists per owner
 * Ids arrive increasing, so appending at add keeps the id-ordered lists sorted; listing
 * done jobs in id order skips only pending ones, which the server's queue bounds.
 *
 * Bodies are copied into BodyArena's shared chunks and headers are interned, because a
 * separate 100-byte Uint8Array costs about 400 bytes of V8 bookkeeping (measured on Node
 * 20) and a fresh headers array 40-80 more: more than the rest of the job together.
 */

const NIL = -1;
const INITIAL_SLOTS = 1024;

// Slot states: indexes into STATE_NAMES, then FREE for a slot on the free stack.
const PENDING = 0;
const DONE = 1;
const CANCELLED = 2;
const FREE = 3;
const STATE_NAMES: readonly JobState[] = ['pending', 'done', 'cancelled'];

// The two lists of byState; in byOwnerState an owner's are at 2 * owner + these.
const PENDING_LIST = 0;
const FINISHED_LIST = 1;

export class MemoryJobTable implements JobTable {
  readonly #slotByJobId = new JobIdIndex();
  #capacity = INITIAL_SLOTS;
  /** Slots handed out at least once; slots from here on have never been used. */
  #usedSlots = 0;
  #freeSlots = new Int32Array(INITIAL_SLOTS);
  #freeSlotCount = 0;

  #jobIds = new Float64Array(INITIAL_SLOTS);
  #owners = new Int32Array(INITIAL_SLOTS);
  #states = new Uint8Array(INITIAL_SLOTS);
  #statuses = new Uint16Array(INITIAL_SLOTS);
  #createdAtMs = new Float64Array(INITIAL_SLOTS);
  #finishedAtMs = new Float64Array(INITIAL_SLOTS);
  /** Interned, frozen header lists of done jobs. */
  readonly #headerLists: (string[] | undefined)[] = [];
  readonly #bodies = new BodyArena(INITIAL_SLOTS);
  readonly #headerInterner = new HeaderListInterner();

  readonly #byId = new SlotLists(INITIAL_SLOTS, 1);
  readonly #byOwnerId = new SlotLists(INITIAL_SLOTS, 0);
  readonly #byState = new SlotLists(INITIAL_SLOTS, 2);
  readonly #byOwnerState = new SlotLists(INITIAL_SLOTS, 0);

  /** Owner names by index; an owner keeps its index for the table's life (users are few). */
  readonly #ownerNames: string[] = [];
  readonly #ownerIndexes = new Map<string, number>();
  #lastFinishedAtMs = 0;

  get size(): number {
    return this.#slotByJobId.size;
  }

  add(jobId: number, owner: string, nowMs: number): void {
    const slot = this.#allocateSlot();
    const ownerIndex = this.#ownerIndexOf(owner);
    this.#jobIds[slot] = jobId;
    this.#owners[slot] = ownerIndex;
    this.#states[slot] = PENDING;
    this.#createdAtMs[slot] = nowMs;
    this.#finishedAtMs[slot] = 0;
    this.#slotByJobId.set(jobId, slot);
    this.#byId.append(0, slot);
    this.#byOwnerId.append(ownerIndex, slot);
    this.#byState.append(PENDING_LIST, slot);
    this.#byOwnerState.append(2 * ownerIndex + PENDING_LIST, slot);
  }

  finish(jobId: number, result: StoredResult, nowMs: number): boolean {
    const slot = this.#slotByJobId.get(jobId);
    if (slot === NIL || this.#states[slot] !== PENDING) return false;
    this.#statuses[slot] = result.status;
    this.#headerLists[slot] = this.#headerInterner.intern(result.headers);
    this.#bodies.store(slot, result.body);
    this.#states[slot] = DONE;
    this.#moveToFinished(slot, nowMs);
    return true;
  }

  cancel(jobId: number, nowMs: number): boolean {
    const slot = this.#slotByJobId.get(jobId);
    if (slot === NIL) return false;
    if (this.#states[slot] === PENDING) {
      this.#states[slot] = CANCELLED;
      this.#moveToFinished(slot, nowMs);
    }
    return true;
  }

  get(jobId: number, caller: Caller): JobView | undefined {
    const slot = this.#visibleSlot(jobId, caller);
    return slot === NIL ? undefined : this.#view(slot, jobId);
  }

  take(jobId: number, caller: Caller): JobView | undefined {
    const slot = this.#visibleSlot(jobId, caller);
    if (slot === NIL) return undefined;
    // The view stays valid after the slot is freed: arena chunks are never overwritten.
    const view = this.#view(slot, jobId);
    if (this.#states[slot] !== PENDING) this.#free(slot);
    return view;
  }

  remove(jobId: number, caller: Caller): boolean {
    const slot = this.#visibleSlot(jobId, caller);
    if (slot === NIL) return false;
    this.#free(slot);
    return true;
  }

  list(state: 'done' | 'pending', count: number, caller: Caller): number[] {
    const jobIds: number[] = [];
    let ownerIndex = 0;
    if (!caller.superuser) {
      const found = this.#ownerIndexes.get(caller.username);
      if (found === undefined) return jobIds;
      ownerIndex = found;
    }
    if (state === 'pending') {
      const lists = caller.superuser ? this.#byState : this.#byOwnerState;
      const list = caller.superuser ? PENDING_LIST : 2 * ownerIndex + PENDING_LIST;
      for (let slot = lists.first(list); slot !== NIL && jobIds.length < count; slot = lists.after(slot)) {
        jobIds.push(this.#jobIds[slot]);
      }
    } else {
      const lists = caller.superuser ? this.#byId : this.#byOwnerId;
      const list = caller.superuser ? 0 : ownerIndex;
      for (let slot = lists.first(list); slot !== NIL && jobIds.length < count; slot = lists.after(slot)) {
        if (this.#states[slot] !== PENDING) jobIds.push(this.#jobIds[slot]);
      }
    }
    return jobIds;
  }

  removeAll(caller: Caller): number {
    const removed = this.size;
    if (caller.superuser) {
      this.#clear();
      return removed;
    }
    const ownerIndex = this.#ownerIndexes.get(caller.username);
    if (ownerIndex === undefined) return 0;
    for (let slot = this.#byOwnerId.first(ownerIndex); slot !== NIL; slot = this.#byOwnerId.first(ownerIndex)) {
      this.#free(slot);
    }
    return removed - this.size;
  }

  removeExpired(stampMs: number, caller: Caller): number {
    let lists = this.#byState;
    let list = FINISHED_LIST;
    if (!caller.superuser) {
      const ownerIndex = this.#ownerIndexes.get(caller.username);
      if (ownerIndex === undefined) return 0;
      lists = this.#byOwnerState;
      list = 2 * ownerIndex + FINISHED_LIST;
    }
    let removed = 0;
    for (let slot = lists.first(list); slot !== NIL && this.#finishedAtMs[slot] < stampMs; slot = lists.first(list)) {
      this.#free(slot);
      removed++;
    }
    return removed;
  }

  #visibleSlot(jobId: number, caller: Caller): number {
    const slot = this.#slotByJobId.get(jobId);
    if (slot === NIL) return NIL;
    if (caller.superuser || this.#ownerNames[this.#owners[slot]] === caller.username) return slot;
    return NIL;
  }

  #view(slot: number, jobId: number): JobView {
    const state = this.#states[slot];
    return {
      jobId,
      owner: this.#ownerNames[this.#owners[slot]],
      state: STATE_NAMES[state],
      createdAtMs: this.#createdAtMs[slot],
      finishedAtMs: this.#finishedAtMs[slot],
      result: state === DONE
        ? { status: this.#statuses[slot], headers: this.#headerLists[slot] as string[], body: this.#bodies.view(slot) }
        : null,
    };
  }

  #moveToFinished(slot: number, nowMs: number): void {
    // removeExpired stops at the first entry young enough, so finish order must also be
    // time order: a wall clock stepping back is clamped to the latest finish time.
    const finishedAtMs = nowMs > this.#lastFinishedAtMs ? nowMs : this.#lastFinishedAtMs;
    this.#lastFinishedAtMs = finishedAtMs;
    this.#finishedAtMs[slot] = finishedAtMs;
    const ownerIndex = this.#owners[slot];
    this.#byState.unlink(PENDING_LIST, slot);
    this.#byState.append(FINISHED_LIST, slot);
    this.#byOwnerState.unlink(2 * ownerIndex + PENDING_LIST, slot);
    this.#byOwnerState.append(2 * ownerIndex + FINISHED_LIST, slot);
  }

  #free(slot: number): void {
    const ownerIndex = this.#owners[slot];
    const state = this.#states[slot];
    const stateList = state === PENDING ? PENDING_LIST : FINISHED_LIST;
    this.#slotByJobId.delete(this.#jobIds[slot]);
    this.#byId.unlink(0, slot);
    this.#byOwnerId.unlink(ownerIndex, slot);
    this.#byState.unlink(stateList, slot);
    this.#byOwnerState.unlink(2 * ownerIndex + stateList, slot);
    if (state === DONE) {
      this.#bodies.release(slot);
      this.#headerLists[slot] = undefined;
    }
    this.#states[slot] = FREE;
    this.#freeSlots[this.#freeSlotCount++] = slot;
  }

  /** Forgets every job at once (a superuser's removeAll): O(owners), not O(jobs). */
  #clear(): void {
    this.#slotByJobId.clear();
    this.#usedSlots = 0;
    this.#freeSlotCount = 0;
    this.#headerLists.length = 0;
    this.#bodies.clear();
    this.#byId.clear();
    this.#byOwnerId.clear();
    this.#byState.clear();
    this.#byOwnerState.clear();
  }

  #allocateSlot(): number {
    if (this.#freeSlotCount > 0) return this.#freeSlots[--this.#freeSlotCount];
    if (this.#usedSlots === this.#capacity) this.#grow();
    // Slots are first used in order, so this push keeps the array packed.
    this.#headerLists.push(undefined);
    return this.#usedSlots++;
  }

  #grow(): void {
    const capacity = this.#capacity * 2;
    this.#capacity = capacity;
    this.#freeSlots = grown(this.#freeSlots, capacity);
    this.#jobIds = grown(this.#jobIds, capacity);
    this.#owners = grown(this.#owners, capacity);
    this.#states = grown(this.#states, capacity);
    this.#statuses = grown(this.#statuses, capacity);
    this.#createdAtMs = grown(this.#createdAtMs, capacity);
    this.#finishedAtMs = grown(this.#finishedAtMs, capacity);
    this.#bodies.growSlots(capacity);
    this.#byId.growSlots(capacity);
    this.#byOwnerId.growSlots(capacity);
    this.#byState.growSlots(capacity);
    this.#byOwnerState.growSlots(capacity);
  }

  #ownerIndexOf(owner: string): number {
    let ownerIndex = this.#ownerIndexes.get(owner);
    if (ownerIndex === undefined) {
      ownerIndex = this.#ownerNames.length;
      this.#ownerNames.push(owner);
      this.#ownerIndexes.set(owner, ownerIndex);
      this.#byOwnerId.ensureLists(ownerIndex + 1);
      this.#byOwnerState.ensureLists(2 * ownerIndex + 2);
    }
    return ownerIndex;
  }
}

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
class JobIdIndex {
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

type SlotArray = Int32Array | Uint8Array | Uint16Array | Float64Array;

function grown<T extends SlotArray>(old: T, capacity: number): T {
  const next = new (old.constructor as new (length: number) => T)(capacity);
  next.set(old);
  return next;
}

/**
 * Doubly linked lists of slots sharing one pair of link arrays, which works because a
 * slot is in at most one list of a family. Heads and tails are indexed by list number.
 */
class SlotLists {
  #next: Int32Array;
  #previous: Int32Array;
  #heads: Int32Array;
  #tails: Int32Array;

  constructor(slotCapacity: number, listCount: number) {
    this.#next = new Int32Array(slotCapacity);
    this.#previous = new Int32Array(slotCapacity);
    this.#heads = new Int32Array(listCount).fill(NIL);
    this.#tails = new Int32Array(listCount).fill(NIL);
  }

  first(list: number): number {
    return this.#heads[list];
  }

  after(slot: number): number {
    return this.#next[slot];
  }

  append(list: number, slot: number): void {
    const tail = this.#tails[list];
    this.#previous[slot] = tail;
    this.#next[slot] = NIL;
    if (tail === NIL) this.#heads[list] = slot;
    else this.#next[tail] = slot;
    this.#tails[list] = slot;
  }

  unlink(list: number, slot: number): void {
    const previous = this.#previous[slot];
    const next = this.#next[slot];
    if (previous === NIL) this.#heads[list] = next;
    else this.#next[previous] = next;
    if (next === NIL) this.#tails[list] = previous;
    else this.#previous[next] = previous;
  }

  clear(): void {
    this.#heads.fill(NIL);
    this.#tails.fill(NIL);
  }

  growSlots(capacity: number): void {
    this.#next = grown(this.#next, capacity);
    this.#previous = grown(this.#previous, capacity);
  }

  ensureLists(listCount: number): void {
    if (listCount <= this.#heads.length) return;
    const capacity = Math.max(listCount, this.#heads.length * 2);
    this.#heads = grown(this.#heads, capacity).fill(NIL, this.#heads.length);
    this.#tails = grown(this.#tails, capacity).fill(NIL, this.#tails.length);
  }
}

const CHUNK_BYTES = 256 * 1024;
/** Slot index and body length, two int32 words ahead of each body. */
const RECORD_HEADER_BYTES = 8;
/** Bodies above this get their own copy: V8's ~400 bytes per buffer is under 3 % of them. */
const MAX_CHUNKED_BODY_BYTES = 16 * 1024;
/** Compact when chunks hold more than twice the live bytes plus this slack. */
const COMPACTION_SLACK_BYTES = 4 * CHUNK_BYTES;

// Body locations below zero; a location >= 0 is a chunk index.
const NO_BODY = -1;
const EMPTY_BODY = -2;
const OWN_BODY = -3;
const EMPTY_BYTES = new Uint8Array(0);

function recordBytes(bodyBytes: number): number {
  return (RECORD_HEADER_BYTES + bodyBytes + 3) & ~3;
}

/**
 * Result bodies, copied back to back into 256 KiB chunks. Chunks are append-only and are
 * dropped, never reused, once empty, so a view handed out earlier stays valid after its
 * job is freed. When stragglers leave chunks mostly empty (more than twice the live
 * bytes overall), the sparsest chunk's live records are copied to the current chunk.
 * Results fetched roughly in order empty whole chunks and never trigger that copy.
 */
class BodyArena {
  #locations: Int32Array;
  #offsets: Int32Array;
  /** Kept per slot too, so a lookup need not touch the chunk. */
  #lengths: Int32Array;
  readonly #ownBodies = new Map<number, Uint8Array>();
  #chunkBytes: (Uint8Array | undefined)[] = [];
  #chunkWords: (Int32Array | undefined)[] = [];
  #chunkLiveBytes: number[] = [];
  #chunkUsedBytes: number[] = [];
  #freeChunkIndexes: number[] = [];
  #chunkCount = 0;
  #liveBytes = 0;
  #current = NIL;
  #writeOffset = CHUNK_BYTES;

  constructor(slotCapacity: number) {
    this.#locations = new Int32Array(slotCapacity).fill(NO_BODY);
    this.#offsets = new Int32Array(slotCapacity);
    this.#lengths = new Int32Array(slotCapacity);
  }

  store(slot: number, body: Uint8Array | null): void {
    if (body === null) this.#locations[slot] = NO_BODY;
    else if (body.length === 0) this.#locations[slot] = EMPTY_BODY;
    else if (body.length > MAX_CHUNKED_BODY_BYTES) {
      // Not body.slice(): on a Buffer that is a view, not a copy.
      const copy = new Uint8Array(body.length);
      copy.set(body);
      this.#ownBodies.set(slot, copy);
      this.#locations[slot] = OWN_BODY;
    } else this.#append(slot, body);
  }

  view(slot: number): Uint8Array | null {
    const location = this.#locations[slot];
    if (location >= 0) {
      // Cheaper than subarray(), which looks up a species constructor.
      return new Uint8Array((this.#chunkBytes[location] as Uint8Array).buffer, this.#offsets[slot] + RECORD_HEADER_BYTES, this.#lengths[slot]);
    }
    if (location === EMPTY_BODY) return EMPTY_BYTES;
    if (location === OWN_BODY) return this.#ownBodies.get(slot) as Uint8Array;
    return null;
  }

  release(slot: number): void {
    const location = this.#locations[slot];
    this.#locations[slot] = NO_BODY;
    if (location === OWN_BODY) this.#ownBodies.delete(slot);
    if (location < 0) return;
    const bytes = recordBytes(this.#lengths[slot]);
    this.#chunkLiveBytes[location] -= bytes;
    this.#liveBytes -= bytes;
    if (location === this.#current) return;
    if (this.#chunkLiveBytes[location] === 0) this.#dropChunk(location);
    else if (this.#chunkCount * CHUNK_BYTES > 2 * this.#liveBytes + COMPACTION_SLACK_BYTES) this.#compactSparsest();
  }

  clear(): void {
    this.#ownBodies.clear();
    this.#chunkBytes = [];
    this.#chunkWords = [];
    this.#chunkLiveBytes = [];
    this.#chunkUsedBytes = [];
    this.#freeChunkIndexes = [];
    this.#chunkCount = 0;
    this.#liveBytes = 0;
    this.#current = NIL;
    this.#writeOffset = CHUNK_BYTES;
  }

  growSlots(capacity: number): void {
    const oldCapacity = this.#locations.length;
    this.#locations = grown(this.#locations, capacity).fill(NO_BODY, oldCapacity);
    this.#offsets = grown(this.#offsets, capacity);
    this.#lengths = grown(this.#lengths, capacity);
  }

  #append(slot: number, body: Uint8Array): void {
    const bytes = recordBytes(body.length);
    if (this.#writeOffset + bytes > CHUNK_BYTES) this.#openChunk();
    const chunk = this.#current;
    const offset = this.#writeOffset;
    const words = this.#chunkWords[chunk] as Int32Array;
    words[offset >> 2] = slot;
    words[(offset >> 2) + 1] = body.length;
    (this.#chunkBytes[chunk] as Uint8Array).set(body, offset + RECORD_HEADER_BYTES);
    this.#writeOffset = offset + bytes;
    this.#chunkUsedBytes[chunk] = this.#writeOffset;
    this.#chunkLiveBytes[chunk] += bytes;
    this.#liveBytes += bytes;
    this.#locations[slot] = chunk;
    this.#offsets[slot] = offset;
    this.#lengths[slot] = body.length;
  }

  #openChunk(): void {
    const sealed = this.#current;
    const buffer = new ArrayBuffer(CHUNK_BYTES);
    const chunk = this.#freeChunkIndexes.length > 0 ? this.#freeChunkIndexes.pop() as number : this.#chunkBytes.length;
    this.#chunkBytes[chunk] = new Uint8Array(buffer);
    this.#chunkWords[chunk] = new Int32Array(buffer);
    this.#chunkLiveBytes[chunk] = 0;
    this.#chunkUsedBytes[chunk] = 0;
    this.#chunkCount++;
    this.#current = chunk;
    this.#writeOffset = 0;
    // Its bodies may all have been fetched while it was being filled.
    if (sealed !== NIL && this.#chunkLiveBytes[sealed] === 0) this.#dropChunk(sealed);
  }

  #dropChunk(chunk: number): void {
    this.#chunkBytes[chunk] = undefined;
    this.#chunkWords[chunk] = undefined;
    this.#chunkCount--;
    this.#freeChunkIndexes.push(chunk);
  }

  /** Moves the live records of the emptiest sealed chunk to the current one and drops it. */
  #compactSparsest(): void {
    let sparsest = NIL;
    for (let chunk = 0; chunk < this.#chunkBytes.length; chunk++) {
      if (chunk === this.#current || this.#chunkBytes[chunk] === undefined) continue;
      if (sparsest === NIL || this.#chunkLiveBytes[chunk] < this.#chunkLiveBytes[sparsest]) sparsest = chunk;
    }
    if (sparsest === NIL) return;
    const bytes = this.#chunkBytes[sparsest] as Uint8Array;
    const words = this.#chunkWords[sparsest] as Int32Array;
    const usedBytes = this.#chunkUsedBytes[sparsest];
    for (let offset = 0; offset < usedBytes; offset += recordBytes(words[(offset >> 2) + 1])) {
      const slot = words[offset >> 2];
      // A record is live while its slot still points at it; freed slots point elsewhere.
      // (Dropping the chunk only after this loop keeps its index from being reused by a
      // chunk the moves open, which could make a dead record look live.)
      if (this.#locations[slot] !== sparsest || this.#offsets[slot] !== offset) continue;
      const start = offset + RECORD_HEADER_BYTES;
      this.#append(slot, bytes.subarray(start, start + words[(offset >> 2) + 1]));
    }
    this.#liveBytes -= this.#chunkLiveBytes[sparsest];
    this.#dropChunk(sparsest);
  }
}

const MAX_INTERNED_HEADER_LISTS = 256;
const EMPTY_HEADERS = Object.freeze([]) as unknown as string[];

function sameStrings(left: readonly string[], right: readonly string[]): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return false;
  return true;
}

/**
 * Shares one frozen copy of each distinct header list, since most results of a route
 * carry the same few headers. The cache is bounded: when full it starts over (lists
 * already stored stay alive through their jobs), so unique headers cost one copy each.
 */
class HeaderListInterner {
  readonly #byKey = new Map<string, string[]>();
  #last = EMPTY_HEADERS;

  intern(headers: string[]): string[] {
    if (headers.length === 0) return EMPTY_HEADERS;
    if (sameStrings(headers, this.#last)) return this.#last;
    const key = headers.join('\n');
    let list = this.#byKey.get(key);
    // Compared again because a value holding '\n' could share another list's key.
    if (list === undefined || !sameStrings(headers, list)) {
      list = Object.freeze(headers.slice()) as string[];
      if (this.#byKey.size >= MAX_INTERNED_HEADER_LISTS) this.#byKey.clear();
      this.#byKey.set(key, list);
    }
    this.#last = list;
    return list;
  }
}
