import type { ClusterBenchResult } from '../cluster.js';
import type { SystemRun } from '../cluster/system-run.js';
import { formatNumber, isRecord, markdownTable } from './format.js';

function barMark(met: boolean): string {
  return met ? '✅ bar met' : '❌ bar missed';
}

function systemRow(name: string, run: SystemRun): string[] {
  return [
    name,
    formatNumber(run.jobsPerSecond),
    `${formatNumber(run.p50Ms, 2)} / ${formatNumber(run.p99Ms, 2)}`,
    formatNumber(run.cpuMicrosPerJob),
    formatNumber(run.serverCpuMicrosPerJob),
    formatNumber(run.redisCpuMicrosPerJob),
    formatNumber(run.clientCpuMicrosPerJob),
    formatNumber(run.redisBytesPerJob),
    formatNumber(run.redisBytesLeftPerReadJob),
    formatNumber(run.failedJobs),
  ];
}

function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** One table of calls per job by command, a column per system, the busiest commands first. */
function callsTable(ours: Readonly<Record<string, number>>, bullmq: Readonly<Record<string, number>>): string {
  const names = [...new Set([...Object.keys(ours), ...Object.keys(bullmq)])]
    .sort((left, right) => ((ours[right] ?? 0) + (bullmq[right] ?? 0)) - ((ours[left] ?? 0) + (bullmq[left] ?? 0)));
  const cell = (value: number | undefined): string => (value === undefined ? '' : formatNumber(value, 2));
  return markdownTable(['command', 'ours', 'BullMQ'], [
    ...names.map((name) => [`\`${name}\``, cell(ours[name]), cell(bullmq[name])]),
    ['**all**', `**${formatNumber(total(ours), 2)}**`, `**${formatNumber(total(bullmq), 2)}**`],
  ]);
}

function byScript(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts).map(([script, count]) => `\`${script}\` ${formatNumber(count, 2)}`).join(', ');
}

function looksLikeResult(data: unknown): data is ClusterBenchResult {
  return isRecord(data) && isRecord(data.ours) && isRecord(data.bullmq) && isRecord(data.cancel) && isRecord(data.settings);
}

/** The `cluster` part as Markdown; undefined when `data` is not its result (the generic rendering then applies). */
export function renderClusterPart(data: unknown): string | undefined {
  if (!looksLikeResult(data)) return undefined;
  const { ours, bullmq, ratio, cpuRatio, bar, barMet, cancel, settings } = data;
  const requests = ours.httpRequestsPerJob ?? {};
  return [
    `Two nodes (\`--cluster.redis\`, ${settings.threadsPerNode} worker thread each) against BullMQ 6.7 (a Worker process, concurrency ` +
      `${settings.bullmqConcurrency}, node-redis adapter) on one Redis, in one run: ${settings.producers} producers each add a trivial job ` +
      `and wait for its result (ours: store \`GET /_api/version\`, poll \`PUT /_api/job/ID\` until 200, ${settings.producers / 2} ` +
      'connections per node; BullMQ: `queue.add`, `job.waitUntilFinished(queueEvents)`), ' +
      `${settings.seconds} s measured after a 1 s warm-up. CPU from /proc, all threads; the client side (autocannon, BullMQ's Queue ` +
      'and QueueEvents) is shown apart and not in CPU/job.',
    '',
    markdownTable(
      ['system', 'jobs/s', 'p50 / p99 ms', 'CPU µs/job', 'nodes or worker µs/job', 'Redis µs/job', 'client µs/job',
        `Redis bytes/stored job (${formatNumber(settings.storedJobs)} unread)`, 'Redis bytes left/read job', 'failed'],
      [systemRow('ours (2 nodes)', ours), systemRow('BullMQ', bullmq)],
    ),
    '',
    `- **jobs/s, ours ÷ BullMQ: ${formatNumber(Math.floor(ratio * 100) / 100, 2)}×**, bar at least ${bar}×: ${barMark(barMet)}`,
    `- CPU per job, BullMQ ÷ ours (worker or nodes, + Redis): ${formatNumber(cpuRatio, 2)}×; with the client side too: ` +
      `${formatNumber((bullmq.cpuMicrosPerJob + bullmq.clientCpuMicrosPerJob) / (ours.cpuMicrosPerJob + ours.clientCpuMicrosPerJob), 2)}× ` +
      '(on a machine whose cores all systems share, jobs/s follow the whole CPU per job)',
    `- **cancel at one node of a job running on the other, to its \`cancelled\` event**: p50 ${formatNumber(cancel.p50Ms, 2)} ms, ` +
      `p99 **${formatNumber(cancel.p99Ms, 2)} ms**, max ${formatNumber(cancel.maxMs, 2)} ms over ${formatNumber(cancel.samples)} samples ` +
      `(the cancel's own answer p99 ${formatNumber(cancel.cancelAnswerP99Ms, 2)} ms), bar p99 under ${cancel.bar} ms: ${barMark(cancel.barMet)}`,
    ...(data.memoryReference === undefined ? [] : [
      `- reference: one server keeping its jobs in memory (no Redis, ${data.memoryReference.threads} worker thread), the same work and producers, same run: ` +
        `${formatNumber(data.memoryReference.jobsPerSecond)} jobs/s, **${formatNumber(Math.floor(data.memoryReference.ratio * 100) / 100, 2)}× BullMQ's**, ` +
        `${formatNumber(data.memoryReference.serverCpuMicrosPerJob)} µs CPU/job, load generator ${formatNumber(data.memoryReference.clientCpuMicrosPerJob)} µs/job. ` +
        'A cluster node does all of this per job and writes the job to Redis besides: on these shared cores this is the most any cluster of ours could reach',
    ]),
    `- ours, HTTP requests per job: ${Object.entries(requests).map(([status, count]) => `${status} ${formatNumber(count, 2)}`).join(', ')}`,
    `- stream race: ${formatNumber(cancel.missedProcessingEvents)} of ${formatNumber(cancel.samples)} SSE streams opened while the job was ` +
      'PENDING never sent PROCESSING (the status endpoint said PROCESSING; the cancelled event still came)',
    '',
    'BullMQ keeps completed jobs (removeOnComplete: false, its default): so bytes left per read job is its kept job; ours deletes a job once its result is read.',
    '',
    `**Redis commands per job sent by clients** (round trips unless pipelined; MONITOR, ${formatNumber(ours.monitoredCallsPerJob.jobs)} / ` +
      `${formatNumber(bullmq.monitoredCallsPerJob.jobs)} jobs in a 1 s window of its own)`,
    '',
    callsTable(ours.monitoredCallsPerJob.fromClients, bullmq.monitoredCallsPerJob.fromClients),
    '',
    '**Redis commands per job called by Lua scripts** (same window)',
    '',
    callsTable(ours.monitoredCallsPerJob.fromScripts, bullmq.monitoredCallsPerJob.fromScripts),
    '',
    `Of which by script, ours: ${byScript(ours.monitoredCallsPerJob.fromScriptsByScript)}; BullMQ: ${byScript(bullmq.monitoredCallsPerJob.fromScriptsByScript)}.`,
  ].join('\n');
}
