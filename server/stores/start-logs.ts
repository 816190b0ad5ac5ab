import { closeSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { listStartLogs, readStartLogs, START_LOG_RECORD_BYTES, type StartLogFile } from '../../engine/index.js';

/** The lane number of the files the store writes itself; no worker has it. */
const STORE_LANE = 999_999;
/** Compact once the files no worker writes any more hold this much. */
const COMPACT_BYTES = 4 * 1024 * 1024;
/** How often a store's expiry sweep looks whether the logs need compacting. */
const COMPACT_CHECK_MS = 10_000;

/**
 * The engine's start logs (`EngineOptions.startLogDirectory`) in `<directory>/started/` (the
 * LMDB store's directory, or a cluster node's own): the ids
 * of jobs of non-idempotent routes whose handler may have run. After a crash, an unfinished job
 * in them may have run and is not run again; one not in them never started. Workers append;
 * the store reads them at recovery and keeps only the ids of jobs still pending, in files of
 * its own, written before the files they replace are deleted (a crash in between leaves both,
 * which read the same).
 */
export class StartLogs {
  readonly directory: string;
  #writes = 0;
  #checkedAtMs = 0;

  constructor(storeDirectory: string) {
    this.directory = join(storeDirectory, 'started');
    mkdirSync(this.directory, { recursive: true });
  }

  /** Ids of every job whose start was logged. */
  readAll(): Set<number> {
    return readStartLogs(listStartLogs(this.directory));
  }

  /** After recovery: keeps just `jobIds` (the unfinished ones that may have run), in one file. */
  replaceAll(jobIds: Iterable<number>): void {
    this.#replace(listStartLogs(this.directory), jobIds);
  }

  /** True at most once per 10 s of `nowMs`: then the store finds what is pending and calls `compact`. */
  compactionDue(nowMs: number): boolean {
    if (nowMs - this.#checkedAtMs < COMPACT_CHECK_MS) return false;
    this.#checkedAtMs = nowMs;
    return true;
  }

  /** Drops the ids of jobs no longer pending from the files no worker writes any more, once they add up. */
  compact(isPending: (jobId: number) => boolean): void {
    const done = listStartLogs(this.directory).filter((file) => file.superseded || file.lane === STORE_LANE);
    let bytes = 0;
    for (const file of done) bytes += statSync(file.path).size;
    if (bytes < COMPACT_BYTES) return;
    this.#replace(done, [...readStartLogs(done)].filter(isPending));
  }

  #replace(files: readonly StartLogFile[], jobIds: Iterable<number>): void {
    const ids = [...jobIds];
    if (ids.length > 0) {
      const bytes = new Uint8Array(ids.length * START_LOG_RECORD_BYTES);
      const view = new DataView(bytes.buffer);
      ids.forEach((jobId, index) => view.setFloat64(index * START_LOG_RECORD_BYTES, jobId, true));
      // Later than any file it replaces: a newer time, or the same millisecond with a higher count.
      const fd = openSync(join(this.directory, `started-${STORE_LANE}-${Date.now()}-${this.#writes++}.log`), 'wx');
      try {
        writeSync(fd, bytes);
      } finally {
        closeSync(fd);
      }
    }
    for (const file of files) unlinkSync(file.path);
  }
}
