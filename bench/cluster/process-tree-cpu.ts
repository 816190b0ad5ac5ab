import { readdirSync, readFileSync } from 'node:fs';
import { readCpuMicros } from '../load/index.js';

/**
 * CPU of a set of processes and their descendants over an interval, in microseconds (Linux
 * /proc). Each process's line sums its threads (a node's workers are threads); descendants are
 * found through /proc/PID/task/TID/children at each reading, so a child process a node or
 * Redis forks counts too (one that starts and ends between two readings is missed: none of the
 * programs measured here forks during a run).
 */
export class ProcessTreeCpu {
  readonly #rootPids: readonly number[];
  readonly #startMicros: number;
  readonly #startWallMs: number;

  constructor(rootPids: readonly number[]) {
    this.#rootPids = rootPids;
    this.#startMicros = treeCpuMicros(rootPids);
    this.#startWallMs = performance.now();
  }

  /** CPU microseconds used since construction, and the wall-clock microseconds that took. */
  read(): { cpuMicros: number; wallMicros: number } {
    return { cpuMicros: treeCpuMicros(this.#rootPids) - this.#startMicros, wallMicros: (performance.now() - this.#startWallMs) * 1000 };
  }
}

function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    const listed = readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8').trim();
    if (listed !== '') children.push(...listed.split(' ').map(Number));
  }
  return children;
}

function treeCpuMicros(rootPids: readonly number[]): number {
  let micros = 0;
  const pending = [...rootPids];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    micros += readCpuMicros(pid);
    pending.push(...childPids(pid));
  }
  return micros;
}
