import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseJson, request, waitFor } from './helpers/http.js';
import { fetchWhenFinished, storeJob } from './helpers/jobs.js';

/*
 * `npm run cluster -- --nodes 2`: the script prints its nodes' URLs once they answer, the nodes
 * share one Redis (a job stored at one is fetched at the other), and SIGINT stops everything.
 */

const CLUSTER_SCRIPT = fileURLToPath(new URL('../scripts/cluster.js', import.meta.url));
// Below Linux's ephemeral range (32768-60999), where the script's Redis gets its port from the kernel.
const PROBE_FIRST_PORT = 20_000;
const PROBE_PORT_SPAN = 10_000;
const PROBE_ATTEMPTS = 50;

let script: ChildProcess | undefined;
let output = '';

after(() => {
  // The script runs in its own process group: a script that failed to stop takes its nodes and Redis with it.
  if (script?.exitCode === null && script.signalCode === null) process.kill(-script.pid!, 'SIGKILL');
});

function listensOn(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The first of two consecutive ports nobody listens on. */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < PROBE_ATTEMPTS; attempt++) {
    const port = PROBE_FIRST_PORT + Math.floor(Math.random() * PROBE_PORT_SPAN);
    if (await canBind(port) && await canBind(port + 1)) return port;
  }
  throw new Error(`no two consecutive free ports found in ${PROBE_ATTEMPTS} tries`);
}

test('the cluster script starts two nodes on one Redis, prints their URLs, and SIGINT stops all of them', { timeout: 45_000 }, async () => {
  const port = await freePortPair();
  script = spawn(process.execPath, [CLUSTER_SCRIPT, '--nodes', '2', '--port', String(port), '--', '--server.threads', '1'],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  script.stdout!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  script.stderr!.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    script!.once('exit', (code, signal) => resolve({ code, signal }));
  });

  const redisUrl = await waitFor('the script to print its URLs', async () => {
    assert.ok(script!.exitCode === null, `the script exited early:\n${output}`);
    if (!/^\d+ nodes running; Ctrl-C stops all$/m.test(output)) return undefined;
    return /^redis\s+(redis:\/\/\S+)$/m.exec(output)?.[1];
  }, 20_000);
  const nodeA = `http://127.0.0.1:${port}`;
  const nodeB = `http://127.0.0.1:${port + 1}`;
  assert.match(output, new RegExp(`^node-a\\s+${nodeA}$`, 'm'));
  assert.match(output, new RegExp(`^node-b\\s+${nodeB}$`, 'm'));
  assert.match(output, /^2 nodes running; Ctrl-C stops all$/m);

  const jobId = await storeJob(nodeA, 'PUT', '/_api/version');
  const fetched = await fetchWhenFinished(nodeB, jobId, {}, 10_000);
  assert.equal(fetched.status, 200, fetched.body);
  assert.equal(fetched.headers.get('x-arango-async-id'), jobId);
  assert.deepEqual(parseJson(fetched), parseJson(await request(nodeB, 'GET', '/_api/version')));

  script.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const status = await Promise.race([
    exited,
    new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), 15_000); }),
  ]);
  clearTimeout(timer);
  assert.deepEqual(status, { code: 0, signal: null }, `the script's exit after SIGINT:\n${output}`);
  const redisPort = Number(new URL(redisUrl).port);
  for (const stoppedPort of [port, port + 1, redisPort]) {
    assert.equal(await listensOn(stoppedPort), false, `port ${stoppedPort} is closed`);
  }
});
