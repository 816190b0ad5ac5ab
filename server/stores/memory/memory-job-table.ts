import type { Caller } from '../../auth/index.js';
import type { GoneJob, JobOutcome, JobState, JobStatusFilter, JobView, StoredResult } from '../../jobs/index.js';
import type { JobTable } from './job-table.js';
import { BodyArena } from './body-arena.js';
import { GoneJobs } from './gone-jobs.js';
import { HeaderListInterner } from './header-list-interner.js';
import { JobIdIndex } from './job-id-index.js';
import { grown, INITIAL_SLOTS, NIL as SHARED_NIL } from './slot-arrays.js';
import { SlotLists } from './slot-lists.js';

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

// A local copy, which V8 reads faster: see NIL in slot-arrays.ts.
const NIL = SHARED_NIL;

// Slot states: indexes into STATE_NAMES, then FREE for a slot on the free stack.
const PENDING = 0;
const DONE = 1;
const CANCELLED = 2;
const FREE = 3;
const STATE_NAMES: readonly JobState[] = ['pending', 'done', 'cancelled'];
// Outcomes of DONE slots.
const OUTCOME_NAMES: readonly JobOutcome[] = ['completed', 'failed', 'timedOut', 'completedWithErrors'];
const COMPLETED_OUTCOME = 0;
const COMPLETED_WITH_ERRORS_OUTCOME = 3;
/** `#types` of a job added without one. */
const NO_TYPE = 0;

// History statuses, for the counts per owner (STATUS_COUNT of them per owner).
const QUEUED_STATUS = 0;
const RUNNING_STATUS = 1;
const COMPLETED_STATUS = 2;
const FAILED_STATUS = 3;
const CANCELLED_STATUS = 4;
const COMPLETED_WITH_ERRORS_STATUS = 5;
const STATUS_COUNT = 6;
const ALL_STATUSES: readonly number[] = [0, 1, 2, 3, 4, 5];
const STATUS_OF_FILTER: Readonly<Record<JobStatusFilter, number>> = {
  queued: QUEUED_STATUS, running: RUNNING_STATUS, completed: COMPLETED_STATUS, failed: FAILED_STATUS, cancelled: CANCELLED_STATUS,
  completedWithErrors: COMPLETED_WITH_ERRORS_STATUS,
};

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
  #startedAtMs = new Float64Array(INITIAL_SLOTS);
  /** 0: kept until fetched or deleted; else how long after finishing `expire` removes it. */
  #retentionMs = new Float64Array(INITIAL_SLOTS);
  #outcomes = new Uint8Array(INITIAL_SLOTS);
  /** Index into `#typeNames` (operation types are few: one per route). */
  #types = new Uint16Array(INITIAL_SLOTS);
  readonly #typeNames: (string | null)[] = [null];
  readonly #typeIndexes = new Map<string, number>();
  /** Interned, frozen header lists of done jobs. */
  readonly #headerLists: (string[] | undefined)[] = [];
  readonly #bodies = new BodyArena(INITIAL_SLOTS);
  readonly #headerInterner = new HeaderListInterner();

  readonly #byId = new SlotLists(INITIAL_SLOTS, 1);
  readonly #byOwnerId = new SlotLists(INITIAL_SLOTS, 0);
  readonly #byState = new SlotLists(INITIAL_SLOTS, 2);
  readonly #byOwnerState = new SlotLists(INITIAL_SLOTS, 0);
  /**
   * Finished jobs that have a retention, in finish order. The server gives every operation
   * the same retention, so finish order is expiry order and `expire` stops at the first
   * job still young enough.
   */
  readonly #byExpiry = new SlotLists(INITIAL_SLOTS, 1);

  /** Owner names by index; an owner keeps its index for the table's life (users are few). */
  readonly #ownerNames: string[] = [];
  readonly #ownerIndexes = new Map<string, number>();
  /** Jobs stored per owner index. */
  readonly #ownerJobCounts: number[] = [];
  /** Jobs per owner and history status, at STATUS_COUNT * owner + status: `count` answers without walking. */
  readonly #statusCounts: number[] = [];
  readonly #gone = new GoneJobs();
  #lastFinishedAtMs = 0;
  #removalListener: ((jobId: number | null) => void) | null = null;

  get size(): number {
    return this.#slotByJobId.size;
  }

  add(jobId: number, owner: string, nowMs: number, retentionMs = 0, type: string | null = null): void {
    const slot = this.#allocateSlot();
    const ownerIndex = this.#ownerIndexOf(owner);
    this.#jobIds[slot] = jobId;
    this.#types[slot] = type === null ? NO_TYPE : this.#typeIndexOf(type);
    this.#owners[slot] = ownerIndex;
    this.#states[slot] = PENDING;
    this.#createdAtMs[slot] = nowMs;
    this.#finishedAtMs[slot] = 0;
    this.#startedAtMs[slot] = 0;
    this.#retentionMs[slot] = retentionMs;
    this.#ownerJobCounts[ownerIndex]++;
    this.#statusCounts[STATUS_COUNT * ownerIndex + QUEUED_STATUS]++;
    this.#slotByJobId.set(jobId, slot);
    this.#byId.append(0, slot);
    this.#byOwnerId.append(ownerIndex, slot);
    this.#byState.append(PENDING_LIST, slot);
    this.#byOwnerState.append(2 * ownerIndex + PENDING_LIST, slot);
  }

  /**
   * For a store rebuilding its index: `add` and `markStarted` of a job, returning its slot for
   * `restoreOutcome`, which saves the id lookups of `finish` (0.2 s for a million jobs).
   */
  restore(jobId: number, owner: string, createdAtMs: number, retentionMs: number, startedAtMs: number, type: string | null = null): number {
    this.add(jobId, owner, createdAtMs, retentionMs, type);
    const slot = this.#byId.last(0);
    if (startedAtMs !== 0) this.#setStarted(slot, startedAtMs);
    return slot;
  }

  /**
   * `finish` (or `cancel`, for outcome null) of a job `restore` returned the slot of; jobs must
   * be restored in the order they finished.
   */
  restoreOutcome(slot: number, finishedAtMs: number, outcome: JobOutcome | null, result: StoredResult): void {
    if (outcome !== null) return this.#finishSlot(slot, result, finishedAtMs, outcome);
    this.#countSlot(slot, -1);
    this.#states[slot] = CANCELLED;
    this.#countSlot(slot, 1);
    this.#moveToFinished(slot, finishedAtMs);
  }

  markStarted(jobId: number, nowMs: number): void {
    const slot = this.#slotByJobId.get(jobId);
    if (slot !== NIL && this.#states[slot] === PENDING && this.#startedAtMs[slot] === 0) this.#setStarted(slot, nowMs);
  }

  /** A pending slot's start time, moving it from queued to running in the counts (0: back to queued). */
  #setStarted(slot: number, startedAtMs: number): void {
    this.#countSlot(slot, -1);
    this.#startedAtMs[slot] = startedAtMs;
    this.#countSlot(slot, 1);
  }

  #countSlot(slot: number, delta: number): void {
    this.#statusCounts[STATUS_COUNT * this.#owners[slot] + this.#statusOf(slot)] += delta;
  }

  #statusOf(slot: number): number {
    switch (this.#states[slot]) {
      case PENDING: return this.#startedAtMs[slot] === 0 ? QUEUED_STATUS : RUNNING_STATUS;
      case DONE: {
        const outcome = this.#outcomes[slot];
        return outcome === COMPLETED_OUTCOME ? COMPLETED_STATUS : outcome === COMPLETED_WITH_ERRORS_OUTCOME ? COMPLETED_WITH_ERRORS_STATUS : FAILED_STATUS;
      }
      default: return CANCELLED_STATUS;
    }
  }

  finish(jobId: number, result: StoredResult, nowMs: number, outcome: JobOutcome = 'completed'): boolean {
    const slot = this.#slotByJobId.get(jobId);
    if (slot === NIL || this.#states[slot] !== PENDING) return false;
    this.#finishSlot(slot, result, nowMs, outcome);
    return true;
  }

  #finishSlot(slot: number, result: StoredResult, nowMs: number, outcome: JobOutcome): void {
    this.#countSlot(slot, -1);
    this.#outcomes[slot] = OUTCOME_NAMES.indexOf(outcome);
    this.#statuses[slot] = result.status;
    this.#headerLists[slot] = this.#headerInterner.intern(result.headers);
    this.#bodies.store(slot, result.body);
    this.#states[slot] = DONE;
    this.#countSlot(slot, 1);
    this.#moveToFinished(slot, nowMs);
  }

  cancel(jobId: number, nowMs: number): boolean {
    const slot = this.#slotByJobId.get(jobId);
    if (slot === NIL) return false;
    if (this.#states[slot] === PENDING) {
      this.#countSlot(slot, -1);
      this.#states[slot] = CANCELLED;
      this.#countSlot(slot, 1);
      this.#moveToFinished(slot, nowMs);
    }
    return true;
  }

  /**
   * Makes a failed or cancelled job pending again (a retry under the same id): its result goes,
   * it is queued (not started), and it keeps its place in every id-ordered list. False when the
   * job is unknown, pending or completed.
   */
  reopen(jobId: number): boolean {
    const slot = this.#slotByJobId.get(jobId);
    if (slot === NIL) return false;
    const state = this.#states[slot];
    const status = this.#statusOf(slot);
    if (state === PENDING || status === COMPLETED_STATUS || status === COMPLETED_WITH_ERRORS_STATUS) return false;
    const ownerIndex = this.#owners[slot];
    this.#countSlot(slot, -1);
    this.#byState.unlink(FINISHED_LIST, slot);
    this.#byOwnerState.unlink(2 * ownerIndex + FINISHED_LIST, slot);
    if (this.#retentionMs[slot] > 0) this.#byExpiry.unlink(0, slot);
    if (state === DONE) {
      this.#bodies.release(slot);
      this.#headerLists[slot] = undefined;
    }
    this.#states[slot] = PENDING;
    this.#startedAtMs[slot] = 0;
    this.#finishedAtMs[slot] = 0;
    this.#countSlot(slot, 1);
    this.#byState.insertSorted(PENDING_LIST, slot, this.#jobIds);
    this.#byOwnerState.insertSorted(2 * ownerIndex + PENDING_LIST, slot, this.#jobIds);
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

  history(caller: Caller, limit: number, beforeJobId: number, filter?: JobStatusFilter): JobView[] {
    const views: JobView[] = [];
    let lists = this.#byId;
    let list = 0;
    let ownerIndex = -1;
    if (!caller.superuser) {
      ownerIndex = this.#ownerIndexes.get(caller.username) ?? -1;
      if (ownerIndex < 0) return views;
      lists = this.#byOwnerId;
      list = ownerIndex;
    }
    // Start just before the cursor's job when it still exists (and is in this list);
    // otherwise walk in from the newest, skipping ids not below the cursor.
    let slot = lists.last(list);
    const cursorSlot = Number.isFinite(beforeJobId) ? this.#slotByJobId.get(beforeJobId) : NIL;
    if (cursorSlot !== NIL && (ownerIndex < 0 || this.#owners[cursorSlot] === ownerIndex)) slot = lists.before(cursorSlot);
    for (; slot !== NIL && views.length < limit; slot = lists.before(slot)) {
      const jobId = this.#jobIds[slot];
      if (jobId >= beforeJobId || (filter !== undefined && !this.#matches(slot, filter))) continue;
      views.push(this.#view(slot, jobId));
    }
    return views;
  }

  expire(nowMs: number, onExpired: (jobId: number, expiredAtMs: number) => void): number {
    let removed = 0;
    for (let slot = this.#byExpiry.first(0); slot !== NIL; slot = this.#byExpiry.first(0)) {
      const expiresAtMs = this.#finishedAtMs[slot] + this.#retentionMs[slot];
      if (expiresAtMs > nowMs) break;
      const jobId = this.#jobIds[slot];
      this.#free(slot, expiresAtMs);
      onExpired(jobId, expiresAtMs);
      removed++;
    }
    return removed;
  }

  gone(jobId: number, caller: Caller): GoneJob | undefined {
    const ownerIndex = this.#gone.ownerOf(jobId);
    if (ownerIndex < 0 || this.#slotByJobId.get(jobId) !== NIL) return undefined;
    if (!caller.superuser && this.#ownerNames[ownerIndex] !== caller.username) return undefined;
    return { jobId, expiredAtMs: this.#gone.expiredAtOf(jobId) };
  }

  count(caller: Caller, filter?: JobStatusFilter): number {
    const statuses = filter === undefined ? ALL_STATUSES : [STATUS_OF_FILTER[filter]];
    let total = 0;
    if (caller.superuser) {
      for (let ownerIndex = 0; ownerIndex < this.#ownerNames.length; ownerIndex++) {
        for (const status of statuses) total += this.#statusCounts[STATUS_COUNT * ownerIndex + status];
      }
      return total;
    }
    const ownerIndex = this.#ownerIndexes.get(caller.username);
    if (ownerIndex === undefined) return 0;
    for (const status of statuses) total += this.#statusCounts[STATUS_COUNT * ownerIndex + status];
    return total;
  }

  countOwnedBy(owner: string): number {
    const ownerIndex = this.#ownerIndexes.get(owner);
    return ownerIndex === undefined ? 0 : this.#ownerJobCounts[ownerIndex];
  }

  onRemoved(listener: (jobId: number | null) => void): void {
    this.#removalListener = listener;
  }

  #matches(slot: number, filter: JobStatusFilter): boolean {
    const state = this.#states[slot];
    switch (filter) {
      case 'queued': return state === PENDING && this.#startedAtMs[slot] === 0;
      case 'running': return state === PENDING && this.#startedAtMs[slot] !== 0;
      case 'completed': return state === DONE && this.#outcomes[slot] === COMPLETED_OUTCOME;
      case 'completedWithErrors': return state === DONE && this.#outcomes[slot] === COMPLETED_WITH_ERRORS_OUTCOME;
      case 'failed': return state === DONE && this.#outcomes[slot] !== COMPLETED_OUTCOME && this.#outcomes[slot] !== COMPLETED_WITH_ERRORS_OUTCOME;
      case 'cancelled': return state === CANCELLED;
    }
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
      startedAtMs: this.#startedAtMs[slot],
      finishedAtMs: this.#finishedAtMs[slot],
      outcome: state === DONE ? OUTCOME_NAMES[this.#outcomes[slot]] : null,
      type: this.#typeNames[this.#types[slot]],
      details: null,
      expiresAtMs: state !== PENDING && this.#retentionMs[slot] > 0 ? this.#finishedAtMs[slot] + this.#retentionMs[slot] : 0,
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
    if (this.#retentionMs[slot] > 0) this.#byExpiry.append(0, slot);
  }

  /** `expiredAtMs`: when its retention ran out, for a job removed by `expire`; else 0. */
  #free(slot: number, expiredAtMs = 0): void {
    const ownerIndex = this.#owners[slot];
    const state = this.#states[slot];
    const stateList = state === PENDING ? PENDING_LIST : FINISHED_LIST;
    this.#gone.record(this.#jobIds[slot], ownerIndex, expiredAtMs);
    this.#ownerJobCounts[ownerIndex]--;
    this.#countSlot(slot, -1);
    this.#slotByJobId.delete(this.#jobIds[slot]);
    this.#byId.unlink(0, slot);
    this.#byOwnerId.unlink(ownerIndex, slot);
    this.#byState.unlink(stateList, slot);
    this.#byOwnerState.unlink(2 * ownerIndex + stateList, slot);
    if (state !== PENDING && this.#retentionMs[slot] > 0) this.#byExpiry.unlink(0, slot);
    if (state === DONE) {
      this.#bodies.release(slot);
      this.#headerLists[slot] = undefined;
    }
    this.#states[slot] = FREE;
    this.#freeSlots[this.#freeSlotCount++] = slot;
    this.#removalListener?.(this.#jobIds[slot]);
  }

  /**
   * Forgets every job at once (a superuser's removeAll): O(owners) plus the newest jobs it
   * remembers as gone (GoneJobs' capacity), not O(jobs).
   */
  #clear(): void {
    let remembered = 0;
    let slot = this.#byId.last(0);
    while (slot !== NIL && remembered < this.#gone.capacity) {
      slot = this.#byId.before(slot);
      remembered++;
    }
    for (slot = slot === NIL ? this.#byId.first(0) : this.#byId.after(slot); slot !== NIL; slot = this.#byId.after(slot)) {
      this.#gone.record(this.#jobIds[slot], this.#owners[slot], 0);
    }
    this.#ownerJobCounts.fill(0);
    this.#statusCounts.fill(0);
    this.#slotByJobId.clear();
    this.#usedSlots = 0;
    this.#freeSlotCount = 0;
    this.#headerLists.length = 0;
    this.#bodies.clear();
    this.#byId.clear();
    this.#byOwnerId.clear();
    this.#byState.clear();
    this.#byOwnerState.clear();
    this.#byExpiry.clear();
    this.#removalListener?.(null);
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
    this.#startedAtMs = grown(this.#startedAtMs, capacity);
    this.#retentionMs = grown(this.#retentionMs, capacity);
    this.#outcomes = grown(this.#outcomes, capacity);
    this.#types = grown(this.#types, capacity);
    this.#bodies.growSlots(capacity);
    this.#byId.growSlots(capacity);
    this.#byOwnerId.growSlots(capacity);
    this.#byState.growSlots(capacity);
    this.#byOwnerState.growSlots(capacity);
    this.#byExpiry.growSlots(capacity);
  }

  #typeIndexOf(type: string): number {
    let index = this.#typeIndexes.get(type);
    if (index === undefined) {
      // Past 65,535 distinct types (a handler naming routes per request), new ones show none.
      if (this.#typeNames.length > 0xffff) return NO_TYPE;
      index = this.#typeNames.length;
      this.#typeNames.push(type);
      this.#typeIndexes.set(type, index);
    }
    return index;
  }

  #ownerIndexOf(owner: string): number {
    let ownerIndex = this.#ownerIndexes.get(owner);
    if (ownerIndex === undefined) {
      ownerIndex = this.#ownerNames.length;
      this.#ownerNames.push(owner);
      this.#ownerIndexes.set(owner, ownerIndex);
      this.#ownerJobCounts.push(0);
      for (let status = 0; status < STATUS_COUNT; status++) this.#statusCounts.push(0);
      this.#byOwnerId.ensureLists(ownerIndex + 1);
      this.#byOwnerState.ensureLists(2 * ownerIndex + 2);
    }
    return ownerIndex;
  }
}
