// Clients that read large answers slowly or not at all: the server never copies an answer they
// have not taken into memory of its own, drops a connection that pipelines more requests behind
// an answer it has not read, delivers every byte to a client that does read, and keeps serving
// everyone else meanwhile.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { delay, parseJson, request } from './helpers/http.js';
import { storeJob, waitForJobDone } from './helpers/jobs.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { noiseBytes } from './fixtures/large-bodies.js';

const LARGE_BODIES = fileURLToPath(new URL('./fixtures/large-bodies.js', import.meta.url));
/** Well above what loopback socket buffers take at once (about 4 MB here), so answers back up. */
const RESULT_BYTES = 16 * 1024 * 1024;
const MB = 1024 * 1024;

let server: ServerProcess;

before(async () => {
  server = await startServer(['--server.handlers', LARGE_BODIES]);
});

after(async () => {
  await server?.stop();
});

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function noisePath(seed: number): string {
  return `/fixture/noise?bytes=${RESULT_BYTES}&seed=${seed}`;
}

/** Stores the noise of `seed` as a job result and returns the job id. */
async function storeNoise(seed: number): Promise<string> {
  const jobId = await storeJob(server.url, 'GET', noisePath(seed));
  await waitForJobDone(server.url, jobId);
  return jobId;
}

function serverRssBytes(): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'));
  assert.ok(match !== null, 'the server has a VmRSS line');
  return Number(match[1]) * 1024;
}

/** The highest server RSS seen over `ms`. */
async function peakRssOver(ms: number): Promise<number> {
  let peak = serverRssBytes();
  for (const end = Date.now() + ms; Date.now() < end;) {
    await delay(50);
    peak = Math.max(peak, serverRssBytes());
  }
  return peak;
}

/** A connection that sends `payload` and then reads nothing (Node buffers nothing for it either). */
function openNonReader(payload: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    socket.pause();
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.on('error', () => { /* the server may drop this connection: that is what is tested */ });
      socket.write(payload, () => resolve(socket));
    });
  });
}

function resultRequest(jobId: string): string {
  return `GET /_api/operations/${jobId}/result HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
}

interface Drained {
  text: string;
  closed: boolean;
}

/** Starts reading a non-reader at last and collects what arrives until the server closes it or `waitMs` passes. */
function drain(socket: Socket, waitMs: number): Promise<Drained> {
  return new Promise((resolve) => {
    let text = '';
    const finish = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => { text += chunk; });
    socket.once('end', () => finish(true));
    socket.once('close', () => finish(true));
    socket.resume();
  });
}

interface SlowRead {
  status: number;
  length: number;
  hash: string;
}

/**
 * One request read the way a slow client reads: nothing for a while after the headers, then
 * a pause after every 4 MB, so the server must wait for the socket to drain several times.
 */
function slowRead(method: string, path: string, headers: Record<string, string> = {}): Promise<SlowRead> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ host: '127.0.0.1', port: server.port, method, path, headers, agent: false }, (incoming) => {
      incoming.pause();
      const hash = createHash('sha256');
      let length = 0;
      let nextPauseAt = 4 * MB;
      setTimeout(() => incoming.resume(), 300);
      incoming.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        length += chunk.byteLength;
        if (length >= nextPauseAt) {
          nextPauseAt += 4 * MB;
          incoming.pause();
          setTimeout(() => incoming.resume(), 100);
        }
      });
      incoming.on('end', () => resolve({ status: incoming.statusCode!, length, hash: hash.digest('hex') }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** A quick client on its own connection: the version, and the whole result with the right bytes. */
async function assertOthersServed(jobId: string, expectedHash: string): Promise<void> {
  const version = await request(server.url, 'GET', '/_api/version');
  assert.equal(version.status, 200);
  assert.equal((parseJson(version) as { server: string }).server, 'arango');
  const response = await fetch(`${server.url}/_api/operations/${jobId}/result`);
  assert.equal(response.status, 200);
  assert.equal(sha256(new Uint8Array(await response.arrayBuffer())), expectedHash);
}

test('a client that pipelines GETs of a large result and reads nothing is disconnected, without the server copying the answers', async () => {
  const requests = 20;
  const jobId = await storeNoise(1);
  const expectedHash = sha256(noiseBytes(RESULT_BYTES, 1));
  await assertOthersServed(jobId, expectedHash);
  const baseline = serverRssBytes();

  const attacker = await openNonReader(resultRequest(jobId).repeat(requests));
  const peak = await peakRssOver(1000);
  await assertOthersServed(jobId, expectedHash);

  // Buffering every answer would be 20 × 16 MB; the result itself is stored once and shared.
  assert.ok(peak - baseline < 4 * RESULT_BYTES, `server RSS grew by ${Math.round((peak - baseline) / MB)} MB`);
  // What the client finds once it reads: what the kernel had taken of the answers, then the
  // close (the server refuses a request pipelined behind an answer still being written).
  const seen = await drain(attacker, 10_000);
  assert.ok(seen.closed, 'the server closed the connection');
  const answers = seen.text.split('HTTP/1.1 200 OK\r\n').length - 1;
  assert.ok(answers >= 1 && answers < requests, `${answers} of ${requests} pipelined requests were answered`);
});

test('clients that each ask for a large result and read nothing cost the server no copy of it', async () => {
  const connections = 12;
  const jobId = await storeNoise(2);
  const expectedHash = sha256(noiseBytes(RESULT_BYTES, 2));
  await assertOthersServed(jobId, expectedHash);
  const baseline = serverRssBytes();

  const attackers: Socket[] = [];
  for (let i = 0; i < connections; i++) attackers.push(await openNonReader(resultRequest(jobId)));
  const peak = await peakRssOver(1000);
  await assertOthersServed(jobId, expectedHash);
  for (const socket of attackers) socket.destroy();

  // A copy of the unsent part for each would be about 12 × 12 MB.
  assert.ok(peak - baseline < 3 * RESULT_BYTES, `server RSS grew by ${Math.round((peak - baseline) / MB)} MB`);
});

test('a slow reader gets every byte of a large stored, fetched and blocking answer', async () => {
  const expectedHash = sha256(noiseBytes(RESULT_BYTES, 3));
  const stored = await storeNoise(3);
  const fetched = await storeNoise(3);
  const reads = await Promise.all([
    slowRead('GET', `/_api/operations/${stored}/result`),
    // Fetching removes the job while its body is still being written.
    slowRead('PUT', `/_api/job/${fetched}`),
    slowRead('GET', noisePath(3)),
  ]);
  for (const read of reads) assert.deepEqual(read, { status: 200, length: RESULT_BYTES, hash: expectedHash });
  assert.equal((await request(server.url, 'PUT', `/_api/job/${fetched}`)).status, 404, 'the fetched job is gone');
});

test('hanging up in the middle of a large answer leaves the server serving and the result intact', async () => {
  const jobId = await storeNoise(4);
  for (let attempt = 0; attempt < 5; attempt++) {
    await new Promise<void>((resolve, reject) => {
      const outgoing = http.get({ host: '127.0.0.1', port: server.port, path: `/_api/operations/${jobId}/result`, agent: false }, (incoming) => {
        // One chunk, then gone with most of the answer unsent.
        incoming.once('data', () => outgoing.destroy());
      });
      outgoing.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
      outgoing.on('close', () => resolve());
    });
  }
  await assertOthersServed(jobId, sha256(noiseBytes(RESULT_BYTES, 4)));
});
