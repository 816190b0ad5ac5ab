import {
  RECORD_ALIGN_BYTES, RECORD_HEADER_BYTES, RECORD_WRAP, RING_HEADER_BYTES,
  RING_READ_CURSOR, RING_WRITE_CURSOR,
} from './layout.js';

/**
 * A single-producer, single-consumer ring of variable-length byte records in a
 * SharedArrayBuffer (layout in `layout.ts`).
 *
 * Written by hand because it is the engine's hot path: records are copied straight into shared
 * memory, a batch of writes is published with one `Atomics.store`, and reads hand out views
 * without allocating. Each side keeps its own cursor copy and only touches the other side's
 * cursor when it runs out of room or of records, so the common case is plain memory access.
 * Both sides of one ring are the same class; each thread uses only its own half.
 */
export class RingQueue {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  /** Largest record that fits; larger payloads must travel another way (the engine spills them). */
  readonly maxRecordBytes: number;
  readonly #cursors: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #mask: number;
  #writeCursor: number;
  #readCursor: number;
  /** Producer's last seen value of the consumer's cursor (saves an atomic load per write). */
  #knownReadCursor: number;
  /** Consumer's last seen value of the producer's cursor. */
  #knownWriteCursor: number;

  /** Creates a ring with `capacity` data bytes (a power of two, at least 64). */
  static create(capacity: number): RingQueue {
    if (!Number.isInteger(capacity) || capacity < 64 || (capacity & (capacity - 1)) !== 0 || capacity > 2 ** 30) {
      throw new TypeError(`ring capacity must be a power of two between 64 and 2^30, got ${capacity}`);
    }
    return new RingQueue(new SharedArrayBuffer(RING_HEADER_BYTES + capacity));
  }

  /** Attaches to a ring created elsewhere (another thread). */
  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.capacity = buffer.byteLength - RING_HEADER_BYTES;
    this.#mask = this.capacity - 1;
    this.maxRecordBytes = (this.capacity >>> 1) - RECORD_HEADER_BYTES - RECORD_ALIGN_BYTES;
    this.#cursors = new Int32Array(buffer, 0, RING_HEADER_BYTES / 4);
    this.#bytes = new Uint8Array(buffer, RING_HEADER_BYTES, this.capacity);
    this.#view = new DataView(buffer, RING_HEADER_BYTES, this.capacity);
    this.#writeCursor = Atomics.load(this.#cursors, RING_WRITE_CURSOR);
    this.#readCursor = Atomics.load(this.#cursors, RING_READ_CURSOR);
    this.#knownReadCursor = this.#readCursor;
    this.#knownWriteCursor = this.#writeCursor;
  }

  // ---- producer side ----

  /**
   * Reserves room for a record of `length` bytes and returns the offset in `bytes` where the
   * payload goes, or -1 when the ring is full (nothing is written: the caller keeps the record
   * and retries after the consumer drains). Call `commit(length)` after filling it.
   */
  reserve(length: number): number {
    const needed = alignedRecordBytes(length);
    let offset = this.#writeCursor & this.#mask;
    const untilEnd = this.capacity - offset;
    const wrapBytes = needed > untilEnd ? untilEnd : 0;
    if (!this.#hasRoom(needed + wrapBytes)) return -1;
    if (wrapBytes !== 0) {
      this.#view.setInt32(offset, RECORD_WRAP, true);
      this.#writeCursor = (this.#writeCursor + wrapBytes) | 0;
      offset = 0;
    }
    this.#view.setInt32(offset, length, true);
    return offset + RECORD_HEADER_BYTES;
  }

  /** Completes the record reserved last. It becomes visible to the consumer at `publish()`. */
  commit(length: number): void {
    this.#writeCursor = (this.#writeCursor + alignedRecordBytes(length)) | 0;
  }

  /** Copies `payload` in as one record; false when the ring is full. */
  tryWrite(payload: Uint8Array): boolean {
    const offset = this.reserve(payload.length);
    if (offset < 0) return false;
    this.#bytes.set(payload, offset);
    this.commit(payload.length);
    return true;
  }

  /** Makes every committed record visible to the consumer at once. */
  publish(): void {
    Atomics.store(this.#cursors, RING_WRITE_CURSOR, this.#writeCursor);
  }

  /** The producer's cursor, counting every byte ever committed (wraps as int32). */
  get writeCursor(): number {
    return this.#writeCursor;
  }

  #hasRoom(bytes: number): boolean {
    if (this.capacity - ((this.#writeCursor - this.#knownReadCursor) | 0) >= bytes) return true;
    this.#knownReadCursor = Atomics.load(this.#cursors, RING_READ_CURSOR);
    return this.capacity - ((this.#writeCursor - this.#knownReadCursor) | 0) >= bytes;
  }

  // ---- consumer side ----

  /**
   * Offset in `bytes` of the next record's payload, or -1 when the ring is empty. Its length is
   * `recordLength(offset)`. The record stays valid until `advance()`.
   */
  peek(): number {
    if (this.#readCursor === this.#knownWriteCursor) {
      this.#knownWriteCursor = Atomics.load(this.#cursors, RING_WRITE_CURSOR);
      if (this.#readCursor === this.#knownWriteCursor) return -1;
    }
    let offset = this.#readCursor & this.#mask;
    if (this.#view.getInt32(offset, true) === RECORD_WRAP) {
      this.#readCursor = (this.#readCursor + this.capacity - offset) | 0;
      offset = 0;
    }
    return offset + RECORD_HEADER_BYTES;
  }

  recordLength(payloadOffset: number): number {
    return this.#view.getInt32(payloadOffset - RECORD_HEADER_BYTES, true);
  }

  /** Steps past the record returned by the last `peek()`; its bytes go back to the producer at `release()`. */
  advance(payloadOffset: number): void {
    this.#readCursor = (this.#readCursor + alignedRecordBytes(this.recordLength(payloadOffset))) | 0;
  }

  /** Hands the space of every advanced record back to the producer. */
  release(): void {
    Atomics.store(this.#cursors, RING_READ_CURSOR, this.#readCursor);
  }

  /** The consumer's published cursor, as the producer sees it. */
  loadReadCursor(): number {
    return Atomics.load(this.#cursors, RING_READ_CURSOR);
  }

  /** True when the consumer has read everything published. */
  isEmpty(): boolean {
    return this.#readCursor === Atomics.load(this.#cursors, RING_WRITE_CURSOR);
  }

  /** The data area; payloads are read from and written to it at the offsets above. */
  get bytes(): Uint8Array {
    return this.#bytes;
  }
}

function alignedRecordBytes(length: number): number {
  return (length + RECORD_HEADER_BYTES + RECORD_ALIGN_BYTES - 1) & ~(RECORD_ALIGN_BYTES - 1);
}
