/**
 * Piscina worker of the fastify-piscina peer: runs one route's handler per
 * task. A sleep is an awaited timer, so with concurrentTasksPerWorker above 1
 * sleeping jobs share a thread instead of holding it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { MessagePort } from 'node:worker_threads';
import { sleepResult, versionResult } from './peer-protocol.js';
import type { JobResult } from './peer-protocol.js';

/** What the HTTP side sends to a worker: which handler to run and its argument. */
export interface PeerTask {
  readonly route: 'version' | 'sleep';
  /** Only read by the sleep route. */
  readonly durationSeconds: number;
  /** Set for stored jobs in `--cancel port` mode: any message on it cancels the job. */
  readonly cancelPort?: MessagePort;
}

async function runRoute(task: PeerTask, signal: AbortSignal | undefined): Promise<JobResult> {
  if (task.route === 'sleep') {
    // Rejects with an AbortError once cancelled, which the HTTP side reads as "canceled".
    await sleep(task.durationSeconds * 1000, undefined, { signal });
    return sleepResult(task.durationSeconds);
  }
  return versionResult();
}

export default async function runPeerTask(task: PeerTask): Promise<JobResult> {
  const cancelPort = task.cancelPort;
  if (cancelPort === undefined) return runRoute(task, undefined);
  const controller = new AbortController();
  // A cancel posted before the task started waits in the port, so none is lost.
  cancelPort.once('message', () => controller.abort());
  try {
    return await runRoute(task, controller.signal);
  } finally {
    cancelPort.close();
  }
}
