import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Bytes of one record: the job id as a float64, little endian. */
export const START_LOG_RECORD_BYTES = 8;
/** A worker moves on to a new file past this size; the embedder compacts or deletes the old ones. */
const ROTATE_BYTES = 4 * 1024 * 1024;

/** `started-<lane>-<ms>-<n>.log`: lane, the worker's start time and a rotation count, so that no two writers share a file. */
export const START_LOG_PATTERN = /^started-(\d+)-(\d+)-(\d+)\.log$/;

/**
 * A worker's start log (`EngineOptions.startLogDirectory`): before the handler of a job whose
 * route is not idempotent runs, its id is appended with one write(2), no fsync. The page cache
 * survives the process dying (kill -9 included), so after a crash the embedder knows every job
 * whose handler may have run; a job not in any log never started. Each worker writes its own
 * files only, and a file it has moved on from is never written again.
 */
export class StartLog {
  readonly #directory: string;
  readonly #lane: number;
  readonly #startedAtMs = Date.now();
  readonly #record = new Uint8Array(START_LOG_RECORD_BYTES);
  readonly #view = new DataView(this.#record.buffer);
  #fd = -1;
  #bytes = 0;
  #files = 0;

  constructor(directory: string, lane: number) {
    this.#directory = directory;
    this.#lane = lane;
  }

  append(jobId: number): void {
    if (this.#fd < 0 || this.#bytes >= ROTATE_BYTES) this.#rotate();
    this.#view.setFloat64(0, jobId, true);
    writeSync(this.#fd, this.#record);
    this.#bytes += START_LOG_RECORD_BYTES;
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  #rotate(): void {
    this.close();
    const name = `started-${this.#lane}-${this.#startedAtMs}-${this.#files++}.log`;
    this.#fd = openSync(join(this.#directory, name), 'a');
    this.#bytes = 0;
  }
}

/** A start log file an embedder found: its path, and whether a newer file of the same lane exists (then nobody writes it any more). */
export interface StartLogFile {
  path: string;
  lane: number;
  superseded: boolean;
}

/** The start log files in `directory`, oldest first per lane. */
export function listStartLogs(directory: string): StartLogFile[] {
  const found = readdirSync(directory).flatMap((name) => {
    const match = START_LOG_PATTERN.exec(name);
    return match === null ? [] : [{ name, lane: Number(match[1]), order: [Number(match[2]), Number(match[3])] as const }];
  });
  found.sort((a, b) => a.lane - b.lane || a.order[0] - b.order[0] || a.order[1] - b.order[1]);
  return found.map((file, index) => ({
    path: join(directory, file.name),
    lane: file.lane,
    superseded: index + 1 < found.length && found[index + 1].lane === file.lane,
  }));
}

/** Every job id in the files (a torn last record, shorter than 8 bytes, is ignored). */
export function readStartLogs(files: readonly StartLogFile[]): Set<number> {
  const jobIds = new Set<number>();
  for (const file of files) {
    const bytes = readFileSync(file.path);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let offset = 0; offset + START_LOG_RECORD_BYTES <= bytes.length; offset += START_LOG_RECORD_BYTES) {
      jobIds.add(view.getFloat64(offset, true));
    }
  }
  return jobIds;
}
