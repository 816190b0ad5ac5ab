import type { StoredResult } from '../../jobs/index.js';
import type { StoreDatabases } from './store-databases.js';
import { StoreCorruptError } from './store-errors.js';
import { decodeResult } from './store-records.js';

/** Reads done jobs' results out of the `results` database. */
export class ResultReader {
  readonly #databases: StoreDatabases;
  readonly #dataPath: string;

  constructor(databases: StoreDatabases, dataPath: string) {
    this.#databases = databases;
    this.#dataPath = dataPath;
  }

  /** A result of up to LARGE_RESULT_BYTES: copied out of the memory map at once. */
  small(jobId: number): StoredResult {
    const bytes = this.#databases.results.getBinaryFast(jobId);
    if (bytes === undefined) throw this.#missing(jobId);
    return decodeResult(bytes, false);
  }

  /**
   * A large result, read without blocking this thread on the disk: the read transaction taken
   * now keeps the snapshot (so a removal committing meanwhile does not take the bytes away),
   * and `prefetch` faults the pages in on lmdb-js's thread before the copy here.
   * (`getAsync` would read on that thread too, but crashed lmdb-js 3.5.6 with a segfault.)
   */
  large(jobId: number): Promise<StoredResult> {
    const { root, results } = this.#databases;
    const transaction = root.useReadTransaction();
    return results.prefetch([jobId]).then(() => {
      try {
        const bytes = results.get(jobId, { transaction });
        if (bytes === undefined) throw this.#missing(jobId);
        return decodeResult(bytes, true);
      } finally {
        transaction.done();
      }
    });
  }

  #missing(jobId: number): StoreCorruptError {
    return new StoreCorruptError(this.#dataPath, `done job ${jobId} has no result`);
  }
}
