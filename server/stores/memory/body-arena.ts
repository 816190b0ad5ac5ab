import { grown, NIL as SHARED_NIL } from './slot-arrays.js';

// A local copy, which V8 reads faster: see NIL in slot-arrays.ts.
const NIL = SHARED_NIL;

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
export class BodyArena {
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
