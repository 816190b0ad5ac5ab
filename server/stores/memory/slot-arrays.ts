/*
 * What the struct-of-arrays job table and its helpers share: the "no slot" marker, the
 * starting slot count, and growing a per-slot typed array.
 */

/**
 * No slot. Importers copy it into a module-level const (`const NIL = SHARED_NIL`): V8
 * reloads an imported binding from its module cell, with a TDZ check, on every use, and
 * in list('done')'s loop that made calls about 1.8 times slower than a local const.
 */
export const NIL = -1;
export const INITIAL_SLOTS = 1024;

type SlotArray = Int32Array | Uint8Array | Uint16Array | Float64Array;

export function grown<T extends SlotArray>(old: T, capacity: number): T {
  const next = new (old.constructor as new (length: number) => T)(capacity);
  next.set(old);
  return next;
}
