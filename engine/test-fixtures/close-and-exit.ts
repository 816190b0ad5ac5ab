/**
 * Run as a child process by engine.test.ts: starts an engine, leaves a sleeping and a spinning
 * job running, closes the engine, prints what happened as one JSON line, and then does nothing:
 * the process must exit by itself.
 */
import { Engine } from '../index.js';
import { FIXTURE_HANDLERS, STOCK_HANDLERS } from './engine-harness.js';

const engine = await Engine.start({ threads: 2, handlerModules: [...STOCK_HANDLERS, FIXTURE_HANDLERS] });
const finals = new Map<number, string>();
engine.subscribe((kind, jobId) => {
  if (kind === 'done' || kind === 'failed' || kind === 'cancelled' || kind === 'timedOut') finals.set(jobId, kind);
});

function submit(method: string, path: string, query: string): number {
  const match = engine.routes.match(method, path);
  if (match.kind !== 'found') throw new Error(`no route ${path}`);
  return engine.submit(match.routeIndex, { method, path, query, headers: [], body: null });
}

async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

const quick = submit('GET', '/_api/version', '');
await waitUntil(() => finals.has(quick));
const sleeping = submit('GET', '/fixture/hold', 'ms=60000');
const spinning = submit('GET', '/_admin/spin', 'duration=60');
await waitUntil(() => engine.stats.runningJobCount === 2);

const closeStart = performance.now();
await engine.close(100);
const closeMs = performance.now() - closeStart;
let submitAfterClose = 'accepted';
try {
  submit('GET', '/_api/version', '');
} catch (error) {
  submitAfterClose = (error as { code?: string }).code ?? String(error);
}
process.stdout.write(`${JSON.stringify({
  quick: finals.get(quick), sleeping: finals.get(sleeping), spinning: finals.get(spinning), closeMs, submitAfterClose,
})}\n`);
