import { Bench } from 'tinybench';
import { Histogram, Registry } from 'prom-client';
import type { Engine } from '../engine/index.js';
import { ServerMetrics } from '../server/observability/metrics.js';
import { TypedHistogram } from '../server/observability/typed-histogram.js';

/*
 * What the metrics cost each job on the request path: a job's three engine events through
 * ServerMetrics.countJobEvent (queued, running, done: counters and the duration histogram),
 * and one observe of prom-client's Histogram against the TypedHistogram the server uses.
 * Run: node dist/bench/metrics-hot-path.js
 */

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const engine = { stats: { queuedJobCount: 0, runningJobCount: 0, threads: 2, workerRestarts: 0 } } as unknown as Engine;
const metrics = new ServerMetrics(engine);
const library = new Histogram({ name: 'library_seconds', help: 'prom-client', buckets: BUCKETS, registers: [new Registry()] });
const typed = new TypedHistogram({ name: 'typed_seconds', help: 'typed array', buckets: BUCKETS, registers: [new Registry()] });

let jobId = 0;
let value = 0;
const bench = new Bench({ time: 1500 });
bench.add('countJobEvent: queued, running, done', () => {
  jobId++;
  metrics.countJobEvent('queued', jobId);
  metrics.countJobEvent('running', jobId);
  metrics.countJobEvent('done', jobId);
});
bench.add('prom-client Histogram.observe', () => library.observe((value = (value + 0.0137) % 2)));
bench.add('TypedHistogram.observe', () => typed.observe((value = (value + 0.0137) % 2)));
await bench.run();
for (const task of bench.tasks) {
  const mean = (task.result as { latency?: { mean: number } } | undefined)?.latency?.mean;
  console.log(`${task.name}: ${mean === undefined ? '?' : (mean * 1000).toFixed(3)} µs`);
}
