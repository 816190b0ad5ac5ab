import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import type { Caller } from '../../auth/index.js';
import type { NewJob } from '../../jobs/index.js';
import { LmdbJobStore } from './lmdb-job-store.js';
import { openStoreDatabases } from './store-databases.js';

const ALICE: Caller = { username: 'alice', superuser: false };
const STORE_MODULE = new URL('./index.js', import.meta.url).href;
const root = mkdtempSync(join(tmpdir(), 'lmdb-store-failures-'));
after(() => rmSync(root, { recursive: true, force: true }));
let directoryCount = 0;
const newDirectory = (): string => join(root, `store-${++directoryCount}`);

function newJob(jobId: number): NewJob {
  return {
    jobId, owner: 'alice', createdAtMs: 1000, retentionMs: 0, keepNoBody: false, idempotency: null, webhook: null, type: 'GET /_api/version',
    request: { method: 'POST', path: '/x', query: '', headers: [], body: null, user: null },
  };
}

function bodyOf(jobId: number, length = 100): Uint8Array {
  return new Uint8Array(length).fill(jobId % 251);
}

/** A node child running `script` (an ES module with LmdbJobStore imported), under `shellPrefix` if given. */
interface Child {
  process: ChildProcess;
  lines: AsyncIterator<string>;
  /** What it wrote to stderr (lmdb-js logs a failed commit there): shown only when a test fails. */
  stderr: string[];
}

function child(script: string, shellPrefix = ''): Child {
  const source = `import { LmdbJobStore } from ${JSON.stringify(STORE_MODULE)};\n${script}`;
  const command = `${shellPrefix}exec ${JSON.stringify(process.execPath)} --input-type=module -e ${shellQuote(source)}`;
  const spawned = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  spawned.stderr!.setEncoding('utf8').on('data', (text: string) => stderr.push(text));
  return { process: spawned, lines: createInterface({ input: spawned.stdout! })[Symbol.asyncIterator](), stderr };
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

async function nextLine(running: Child): Promise<string> {
  const { value, done } = await running.lines.next();
  assert.equal(done, false, `the child ended early: ${running.stderr.join('')}`);
  return value;
}

function exited(spawned: ChildProcess): Promise<void> {
  return spawned.exitCode !== null || spawned.signalCode !== null ? Promise.resolve() : new Promise((resolve) => spawned.once('exit', () => resolve()));
}

async function rejectsWith(promise: Promise<unknown>, code: string, text: string): Promise<void> {
  await assert.rejects(promise, (error: Error & { code?: string }) => {
    assert.equal(error.code, code);
    assert.match(error.message, new RegExp(text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    return true;
  });
}

describe('LmdbJobStore refuses what it cannot safely open, and loses nothing it committed', () => {
  test('a second open of the same directory is refused, naming the holder, until it closes', async () => {
    const directory = newDirectory();
    const store = await LmdbJobStore.open({ directory });
    await rejectsWith(LmdbJobStore.open({ directory }), 'ERR_STORE_LOCKED', `process ${process.pid}`);
    await store.close();
    await (await LmdbJobStore.open({ directory })).close();
  });

  test('another process holding the directory is refused; its lock goes with it when it is killed with SIGKILL', async () => {
    const directory = newDirectory();
    const holder = child(`await LmdbJobStore.open({ directory: ${JSON.stringify(directory)} }); console.log('open'); setInterval(() => {}, 1000);`);
    assert.equal(await nextLine(holder), 'open');
    await rejectsWith(LmdbJobStore.open({ directory }), 'ERR_STORE_LOCKED', `process ${holder.process.pid}`);
    holder.process.kill('SIGKILL');
    await exited(holder.process);
    await (await LmdbJobStore.open({ directory })).close();
  });

  test('a directory written by a newer format is refused', async () => {
    const directory = newDirectory();
    await (await LmdbJobStore.open({ directory })).close();
    const databases = openStoreDatabases(directory);
    await databases.state.put('format', 3);
    await databases.root.close();
    await rejectsWith(LmdbJobStore.open({ directory }), 'ERR_STORE_FORMAT', 'format 3, newer than 2');
  });

  // 0 bytes: up to the end of the file.
  for (const [where, offset, length] of [['over its header', 0, 8192], ['over its data pages', 8192, 0]] as const) {
    test(`garbage ${where} is refused with the file's path, without crashing the process`, async () => {
      const directory = newDirectory();
      const store = await LmdbJobStore.open({ directory });
      for (let jobId = 1; jobId <= 2000; jobId++) {
        void store.add(newJob(jobId));
        void store.finish(jobId, { status: 200, headers: [], body: bodyOf(jobId) }, 2000);
      }
      await store.close();
      const dataPath = join(directory, 'data.mdb');
      const garbage = new Uint8Array(length || statSync(dataPath).size - offset).map((_, index) => (index * 7919 + 13) & 0xff);
      const fd = openSync(dataPath, 'r+');
      writeSync(fd, garbage, 0, garbage.length, offset);
      closeSync(fd);
      await rejectsWith(LmdbJobStore.open({ directory }), 'ERR_STORE_CORRUPT', join(directory, 'data.mdb'));
      // Still refused, and still not locked: the failed open released its lock.
      await rejectsWith(LmdbJobStore.open({ directory }), 'ERR_STORE_CORRUPT', 'damaged');
    });
  }

  test('a write the disk has no room for rejects with ERR_STORE_FULL; what was stored before is kept and the store goes on', async () => {
    const directory = newDirectory();
    // ulimit -f caps the files the child may grow (in 512-byte blocks for sh): a 4 MB result cannot fit.
    const writer = child(`
      process.on('SIGXFSZ', () => {});
      const store = await LmdbJobStore.open({ directory: ${JSON.stringify(directory)} });
      const job = (jobId) => ({ jobId, owner: 'alice', createdAtMs: 1, retentionMs: 0, keepNoBody: false, idempotency: null, webhook: null,
        request: { method: 'GET', path: '/', query: '', headers: [], body: null, user: null } });
      await store.add(job(1));
      await store.finish(1, { status: 200, headers: [], body: new Uint8Array([1, 2, 3]) }, 2);
      await store.add(job(2));
      const outcome = await store.finish(2, { status: 200, headers: [], body: new Uint8Array(4_000_000) }, 3).then(() => 'stored', (error) => error.code);
      const added = await store.add(job(3)).then(() => 'stored', (error) => error.code);
      console.log(JSON.stringify({ outcome, added, two: (await store.get(2, { username: 'alice', superuser: false }))?.state }));
      await store.close();
    `, 'ulimit -f 2048; ');
    const report = JSON.parse(await nextLine(writer)) as Record<string, string>;
    await exited(writer.process);
    assert.deepEqual(report, { outcome: 'ERR_STORE_FULL', added: 'stored', two: 'pending' });
    const store = await LmdbJobStore.open({ directory });
    assert.deepEqual((await store.get(1, ALICE))?.result?.body, new Uint8Array([1, 2, 3]));
    assert.equal((await store.get(2, ALICE))?.state, 'pending');
    assert.equal((await store.get(3, ALICE))?.state, 'pending');
    await store.close();
  });

  test('a process killed with SIGKILL loses nothing whose write had resolved', async () => {
    const directory = newDirectory();
    const writer = child(`
      const store = await LmdbJobStore.open({ directory: ${JSON.stringify(directory)} });
      const job = (jobId) => ({ jobId, owner: 'alice', createdAtMs: 1, retentionMs: 0, keepNoBody: false, idempotency: null, webhook: null,
        request: { method: 'GET', path: '/', query: '', headers: [], body: null, user: null } });
      for (let batch = 0; ; batch++) {
        const writes = [];
        for (let jobId = batch * 500 + 1; jobId <= batch * 500 + 500; jobId++) {
          writes.push(store.add(job(jobId)), store.finish(jobId, { status: 200, headers: ['x-job', String(jobId)], body: new Uint8Array(100).fill(jobId % 251) }, 2));
        }
        await Promise.all(writes);
        console.log(batch * 500 + 500);
      }
    `);
    let committed = 0;
    for (let line = 0; line < 20; line++) committed = Number(await nextLine(writer));
    writer.process.kill('SIGKILL');
    await exited(writer.process);
    const store = await LmdbJobStore.open({ directory });
    assert.ok(store.size >= committed, `${store.size} jobs stored, ${committed} committed`);
    for (let jobId = 1; jobId <= committed; jobId++) {
      const view = await store.get(jobId, ALICE);
      assert.deepEqual(view?.result, { status: 200, headers: ['x-job', String(jobId)], body: bodyOf(jobId) });
    }
    await store.close();
  });

  test('a large result is read after its pages were fetched off the main thread; a small one at once', async () => {
    const store = await LmdbJobStore.open({ directory: newDirectory() });
    const large = new Uint8Array(5_000_000).map((_, index) => index % 253);
    await store.add(newJob(1));
    await store.add(newJob(2));
    await store.finish(1, { status: 200, headers: [], body: large }, 2);
    await store.finish(2, { status: 200, headers: [], body: bodyOf(2) }, 2);
    const settled = new Set<number>();
    const reads = [1, 2].map((jobId) => store.get(jobId, ALICE).then((view) => (settled.add(jobId), view)));
    await Promise.resolve();
    await Promise.resolve();
    assert.deepEqual([...settled], [2], 'the small read was answered from the map at once; the large one waits for prefetch');
    const [largeView, smallView] = await Promise.all(reads);
    assert.deepEqual(largeView?.result?.body, large);
    assert.deepEqual(smallView?.result?.body, bodyOf(2));
    assert.deepEqual((await store.take(1, ALICE))?.result?.body, large);
    await store.close();
  });
});
