/**
 * Peer: a BullMQ Worker in a process of its own, so that the cluster benchmark measures its CPU
 * apart from the producers (as it measures each node's apart from the load generator). Usage:
 *   node dist/bench/peers/bullmq-worker.js --redis redis://HOST:PORT [--concurrency N]
 *
 * Each job returns VERSION_RESULT at once: the work is BullMQ's own (take, lock, complete,
 * store the result, publish the event). Prints `ready` once the worker is connected; SIGTERM
 * closes it (in-flight jobs finish) and exits.
 */
import { parseArgs } from 'node:util';
import { Worker } from 'bullmq';
import { BULLMQ_PREFIX, BULLMQ_QUEUE, useNodeRedisForBullmq, VERSION_RESULT } from './bullmq-connection.js';

const { values } = parseArgs({ options: { redis: { type: 'string' }, concurrency: { type: 'string', default: '50' } }, strict: true });
const concurrency = Number(values.concurrency);
if (values.redis === undefined || !values.redis.startsWith('redis://')) throw new TypeError(`--redis must be a redis:// URL, got ${String(values.redis)}`);
if (!Number.isInteger(concurrency) || concurrency < 1) throw new TypeError(`--concurrency must be a positive integer, got ${values.concurrency}`);

useNodeRedisForBullmq();
const worker = new Worker(BULLMQ_QUEUE, async () => VERSION_RESULT, {
  connection: { url: values.redis }, prefix: BULLMQ_PREFIX, concurrency,
});
worker.on('error', (error) => process.stderr.write(`bullmq worker: ${error.message}\n`));
await worker.waitUntilReady();
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  worker.close().then(() => process.exit(0), (error: Error) => {
    process.stderr.write(`bullmq worker: close failed: ${error.message}\n`);
    process.exit(1);
  });
});
