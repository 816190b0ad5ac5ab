/**
 * Job table operations at a million stored jobs:
 *
 *   node dist/bench/jobs.js
 *
 * The table holds ENTRY_COUNT jobs of USER_COUNT users: PENDING_COUNT pending (a full
 * queue) and the rest done with a 100-byte body. The pending jobs are the oldest, the
 * worst case for listing done jobs, which skips them. Each sample runs BATCH operations and the
 * hooks around it (not timed) put the table back to the same size, so every operation is
 * measured at a million entries. Jobs are fetched and expired oldest first, as clients
 * that keep up do.
 */
import { pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';
import type { Caller } from '../server/auth/index.js';
import type { StoredResult } from '../server/jobs/index.js';
import { MemoryJobTable } from '../server/stores/memory/index.js';

const ENTRY_COUNT = 1_000_000;
const USER_COUNT = 1000;
const PENDING_COUNT = 4096;
const BATCH = 1000;
const LIST_COUNT = 100;
const ROOT: Caller = { username: 'root', superuser: true };
const USERS: readonly Caller[] = Array.from({ length: USER_COUNT }, (_, index) => ({ username: `user${index}`, superuser: false }));
const RESULT: StoredResult = {
  status: 200,
  headers: ['content-type', 'application/json; charset=utf-8'],
  body: new Uint8Array(100).fill(0x61),
};

/** The done jobs in finish order, so samples can fetch or expire the oldest and add new ones. */
class DoneQueue {
  readonly #jobIds = new Float64Array(1 << 21);
  readonly #finishedAtMs = new Float64Array(1 << 21);
  #head = 0;
  #tail = 0;
  readonly #mask = (1 << 21) - 1;

  push(jobId: number, finishedAtMs: number): void {
    this.#jobIds[this.#tail & this.#mask] = jobId;
    this.#finishedAtMs[this.#tail & this.#mask] = finishedAtMs;
    this.#tail++;
  }

  shift(): number {
    return this.#jobIds[this.#head++ & this.#mask];
  }

  /** The job id `ahead` places behind the oldest. */
  peek(ahead: number): number {
    return this.#jobIds[(this.#head + ahead) & this.#mask];
  }

  finishedAtMs(ahead: number): number {
    return this.#finishedAtMs[(this.#head + ahead) & this.#mask];
  }

  get length(): number {
    return this.#tail - this.#head;
  }
}

class JobTableFixture {
  readonly table = new MemoryJobTable();
  readonly done = new DoneQueue();
  #nextJobId = 1;
  #clockMs = 1;
  #batchStart = 0;

  constructor() {
    for (let index = 0; index < PENDING_COUNT; index++) this.#add();
    this.produce(ENTRY_COUNT - PENDING_COUNT);
  }

  /** Adds and finishes `count` jobs. */
  produce(count: number): void {
    for (let index = 0; index < count; index++) {
      const jobId = this.#add();
      const nowMs = this.#clockMs++;
      this.table.finish(jobId, RESULT, nowMs);
      this.done.push(jobId, nowMs);
    }
  }

  /** Fetches the `count` oldest done jobs. */
  consume(count: number): void {
    for (let index = 0; index < count; index++) {
      const jobId = this.done.shift();
      this.table.take(jobId, USERS[jobId % USER_COUNT]);
    }
  }

  addBatch(): void {
    this.#batchStart = this.#nextJobId;
    for (let index = 0; index < BATCH; index++) this.#add();
  }

  removeBatch(): void {
    for (let jobId = this.#batchStart; jobId < this.#batchStart + BATCH; jobId++) this.table.remove(jobId, ROOT);
  }

  finishBatch(): void {
    for (let jobId = this.#batchStart; jobId < this.#batchStart + BATCH; jobId++) {
      const nowMs = this.#clockMs++;
      this.table.finish(jobId, RESULT, nowMs);
      this.done.push(jobId, nowMs);
    }
  }

  #add(): number {
    const jobId = this.#nextJobId++;
    this.table.add(jobId, USERS[jobId % USER_COUNT].username, this.#clockMs);
    return jobId;
  }
}

interface Operation {
  name: string;
  run: (fixture: JobTableFixture) => void;
  before?: (fixture: JobTableFixture) => void;
  after?: (fixture: JobTableFixture) => void;
  /** What the time is per, when not per call (a removeExpired call removes BATCH jobs). */
  note?: string;
}

const picks = new Float64Array(BATCH);
/** Sink so the optimiser keeps the calls whose results the benchmark ignores. */
let checksum = 0;

function pickRandomDoneJobs(fixture: JobTableFixture): void {
  for (let index = 0; index < BATCH; index++) picks[index] = fixture.done.peek(Math.floor(Math.random() * fixture.done.length));
}

const OPERATIONS: readonly Operation[] = [
  {
    name: 'add',
    run: (fixture) => fixture.addBatch(),
    after: (fixture) => fixture.removeBatch(),
  },
  {
    name: 'finish',
    before: (fixture) => fixture.addBatch(),
    run: (fixture) => fixture.finishBatch(),
    after: (fixture) => fixture.consume(BATCH),
  },
  {
    name: 'get (status, random job, as owner)',
    before: pickRandomDoneJobs,
    run: (fixture) => {
      for (let index = 0; index < BATCH; index++) {
        const jobId = picks[index];
        checksum += fixture.table.get(jobId, USERS[jobId % USER_COUNT])?.result?.status ?? 0;
      }
    },
  },
  {
    name: 'take (fetch oldest, as owner)',
    before: (fixture) => fixture.produce(BATCH),
    run: (fixture) => fixture.consume(BATCH),
  },
  ...(['done', 'pending'] as const).flatMap((state): Operation[] => [
    {
      name: `list ${state} count=${LIST_COUNT} (superuser${state === 'done' ? `, skips ${PENDING_COUNT} pending` : ''})`,
      run: (fixture) => {
        for (let index = 0; index < BATCH; index++) checksum += fixture.table.list(state, LIST_COUNT, ROOT).length;
      },
      note: `per call (up to ${LIST_COUNT} ids)`,
    },
    {
      name: `list ${state} count=${LIST_COUNT} (1 of ${USER_COUNT} users)`,
      run: (fixture) => {
        for (let index = 0; index < BATCH; index++) checksum += fixture.table.list(state, LIST_COUNT, USERS[index % USER_COUNT]).length;
      },
      note: `per call (up to ${LIST_COUNT} ids)`,
    },
  ]),
  {
    name: `removeExpired (${BATCH} expired per call)`,
    run: (fixture) => {
      const removed = fixture.table.removeExpired(fixture.done.finishedAtMs(BATCH), ROOT);
      if (removed !== BATCH) throw new Error(`removeExpired removed ${removed} jobs, expected ${BATCH}`);
    },
    after: (fixture) => {
      for (let index = 0; index < BATCH; index++) fixture.done.shift();
      fixture.produce(BATCH);
    },
    note: 'per expired job',
  },
];

/** Runs every operation at a million entries; one row per operation, times per single operation. */
export async function runJobsBench(): Promise<Record<string, unknown>[]> {
  const buildStartMs = performance.now();
  const fixture = new JobTableFixture();
  const buildMs = performance.now() - buildStartMs;
  const bench = new Bench({ name: 'job table', time: 500, warmupTime: 100, throws: true });
  for (const operation of OPERATIONS) {
    bench.add(operation.name, () => operation.run(fixture), {
      beforeEach: operation.before && (() => operation.before?.(fixture)),
      afterEach: operation.after && (() => operation.after?.(fixture)),
    });
  }
  await bench.run();
  if (fixture.table.size !== ENTRY_COUNT) throw new Error(`table drifted to ${fixture.table.size} entries`);
  const rows: Record<string, unknown>[] = OPERATIONS.map((operation) => {
    const result = bench.getTask(operation.name)?.result;
    if (result === undefined || !('latency' in result)) throw new Error(`${operation.name}: no result`);
    const perOperationNs = (ms: number): number => Math.round((ms * 1e6) / BATCH);
    return {
      operation: operation.name,
      'mean ns/op': perOperationNs(result.latency.mean),
      'p99 ns/op': perOperationNs(result.latency.p99),
      'ops/s': Math.round((BATCH * 1000) / result.latency.mean),
      samples: result.latency.samplesCount,
      unit: operation.note ?? 'per operation',
    };
  });
  rows.push({ operation: `build: add+finish ${ENTRY_COUNT} jobs`, 'mean ns/op': Math.round((buildMs * 1e6) / ENTRY_COUNT), unit: 'per job, one run' });
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runJobsBench();
  console.log(`job table at ${ENTRY_COUNT} entries, ${USER_COUNT} users, ${PENDING_COUNT} pending; ${BATCH} operations per sample (checksum ${checksum})`);
  console.table(rows);
}
