import { grown, NIL as SHARED_NIL } from './slot-arrays.js';

// A local copy, which V8 reads faster: see NIL in slot-arrays.ts.
const NIL = SHARED_NIL;

/**
 * Doubly linked lists of slots sharing one pair of link arrays, which works because a
 * slot is in at most one list of a family. Heads and tails are indexed by list number.
 */
export class SlotLists {
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

  last(list: number): number {
    return this.#tails[list];
  }

  before(slot: number): number {
    return this.#previous[slot];
  }

  append(list: number, slot: number): void {
    const tail = this.#tails[list];
    this.#previous[slot] = tail;
    this.#next[slot] = NIL;
    if (tail === NIL) this.#heads[list] = slot;
    else this.#next[tail] = slot;
    this.#tails[list] = slot;
  }

  /**
   * Inserts `slot` where `keys` keeps the list ascending, walking in from the tail: O(entries
   * with a larger key), which is cheap for a slot that belongs near the end.
   */
  insertSorted(list: number, slot: number, keys: Float64Array): void {
    let previous = this.#tails[list];
    while (previous !== NIL && keys[previous] > keys[slot]) previous = this.#previous[previous];
    if (previous === this.#tails[list]) return this.append(list, slot);
    const next = previous === NIL ? this.#heads[list] : this.#next[previous];
    this.#previous[slot] = previous;
    this.#next[slot] = next;
    this.#previous[next] = slot;
    if (previous === NIL) this.#heads[list] = slot;
    else this.#next[previous] = slot;
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
