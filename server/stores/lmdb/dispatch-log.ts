import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';

const ID_BYTES = 8;

/**
 * `dispatched.log`: the ids of jobs handed to a worker, 8 bytes (float64, little endian) each, appended with
 * one write(2) per dispatch and no fsync. The page cache survives the process (kill -9
 * included), which is the crash that matters: a machine crash may lose the tail, and those
 * jobs then come back as never dispatched. A kernel-level append of 8 bytes costs about a
 * microsecond, against a transaction round trip for an LMDB write, and `markDispatched` is
 * called on the dispatch path. A torn last record (a length not a multiple of 8) is ignored.
 */
export class DispatchLog {
  readonly #path: string;
  #fd: number;
  #bytes: number;
  readonly #recordBytes = new Uint8Array(ID_BYTES);
  readonly #record = new DataView(this.#recordBytes.buffer);

  constructor(path: string) {
    this.#path = path;
    this.#fd = openSync(path, 'a');
    this.#bytes = fstatSync(this.#fd).size;
  }

  /** Bytes in the file: the store compacts it when this grows past its bound. */
  get bytes(): number {
    return this.#bytes;
  }

  append(jobId: number): void {
    this.#record.setFloat64(0, jobId, true);
    writeSync(this.#fd, this.#recordBytes);
    this.#bytes += ID_BYTES;
  }

  /** Every id recorded. */
  readAll(): Set<number> {
    const jobIds = new Set<number>();
    if (!existsSync(this.#path)) return jobIds;
    const bytes = readFileSync(this.#path);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let offset = 0; offset + ID_BYTES <= bytes.length; offset += ID_BYTES) jobIds.add(view.getFloat64(offset, true));
    return jobIds;
  }

  /** Replaces the file with just these ids (written aside, then renamed over it). */
  rewrite(jobIds: Iterable<number>): void {
    const ids = [...jobIds];
    const bytes = new Uint8Array(ids.length * ID_BYTES);
    const view = new DataView(bytes.buffer);
    ids.forEach((jobId, index) => view.setFloat64(index * ID_BYTES, jobId, true));
    const aside = `${this.#path}.new`;
    const fd = openSync(aside, 'w');
    writeSync(fd, bytes);
    closeSync(fd);
    renameSync(aside, this.#path);
    closeSync(this.#fd);
    this.#fd = openSync(this.#path, 'a');
    this.#bytes = ids.length * ID_BYTES;
  }

  close(): void {
    closeSync(this.#fd);
  }
}
