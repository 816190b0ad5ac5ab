// arangojs, unchanged, against the server: db.createJob, Job.load/cancel/getCompleted/
// deleteResult, the job lists and clean-ups, and db.login with authentication on.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Database } from 'arangojs';
import { isArangoError } from 'arangojs/errors';
import type { Job } from 'arangojs/jobs';
import { makeUsersFile, type UsersFile } from './helpers/credentials.js';
import { delay, waitFor } from './helpers/http.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

let open: ServerProcess;
let guarded: ServerProcess;
let users: UsersFile;
const databases: Database[] = [];

function connect(url: string): Database {
  const db = new Database({ url });
  databases.push(db);
  return db;
}

before(async () => {
  users = await makeUsersFile([{ username: 'alice', password: 'x' }, { username: 'bob', password: 'y' }]);
  [open, guarded] = await Promise.all([
    startServer(['--server.threads', '1']),
    startServer(['--server.threads', '1', '--server.authentication', 'true', '--server.users', users.path, '--server.jwt-secret', 'arangojs-secret']),
  ]);
});

after(async () => {
  for (const db of databases) db.close();
  await Promise.all([open?.stop(), guarded?.stop()]);
  await users?.remove();
});

/** arangojs's documented polling loop: load() until isLoaded. */
async function loadResult<Result>(job: Job<Result>): Promise<Result | undefined> {
  return waitFor(`job ${job.id} to load`, async () => {
    await job.load();
    return job.isLoaded ? { result: job.result } : undefined;
  }, 20_000, 20).then(({ result }) => result);
}

async function expectArangoError(promise: Promise<unknown>, code: number, errorNum: number): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isArangoError(error), `an ArangoError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.errorNum, errorNum);
    return true;
  });
}

describe('db.createJob', () => {
  test('runs db.version() as a stored job whose result job.load() delivers', async () => {
    const db = connect(open.url);
    const job = await db.createJob(() => db.version());
    assert.match(job.id, /^[1-9][0-9]*$/);
    const result = await loadResult(job);
    assert.equal(job.isLoaded, true);
    assert.equal(result?.server, 'arango');
    assert.equal(typeof result?.version, 'string');
    assert.deepEqual(job.result, result);
  });

  test('job.getCompleted() is false while the job runs and true once it is done', async () => {
    const db = connect(open.url);
    const job = await db.createJob(() => db.route('/_admin/sleep').get({ duration: 0.4 }));
    assert.equal(await job.getCompleted(), false);
    await waitFor('completion', async () => ((await job.getCompleted()) ? true : undefined), 10_000, 50);
    const response = await loadResult(job);
    assert.equal(response?.status, 200);
    assert.deepEqual(response?.parsedBody, { error: false, code: 200, duration: 0.4 });
  });

  test('job.cancel() stops a running job; job.load() then fails with 410, errorNum 21', async () => {
    const db = connect(open.url);
    // arangojs rejects the callback's own promise too: watch it from the start.
    let outcome: Promise<void> | undefined;
    const job = await db.createJob(() => {
      const eventual = db.route('/_admin/sleep').get({ duration: 30 });
      outcome = expectArangoError(eventual, 410, 21);
      return eventual;
    });
    await delay(100);
    await job.cancel();
    const error = await waitFor('the cancelled job to end', async () => {
      try {
        await job.load();
        return undefined;
      } catch (caught) {
        return { caught };
      }
    });
    assert.ok(isArangoError(error.caught), `an ArangoError, got ${String(error.caught)}`);
    assert.equal(error.caught.code, 410);
    assert.equal(error.caught.errorNum, 21);
    await outcome;
  });

  test('a failing request surfaces as an ArangoError from job.load()', async () => {
    const db = connect(open.url);
    let outcome: Promise<void> | undefined;
    const job = await db.createJob(() => {
      const eventual = db.route('/_admin/fail').get({ status: 503 });
      outcome = expectArangoError(eventual, 503, 503);
      return eventual;
    });
    await waitFor('the job to complete', async () => ((await job.getCompleted()) ? true : undefined));
    await expectArangoError(job.load(), 503, 503);
    await outcome;
  });

  test('job.deleteResult() removes the result; the job is then unknown (404)', async () => {
    const db = connect(open.url);
    const job = await db.createJob(() => db.version());
    await waitFor('completion', async () => ((await job.getCompleted()) ? true : undefined));
    await job.deleteResult();
    await expectArangoError(job.getCompleted(), 404, 404);
    await expectArangoError(job.deleteResult(), 404, 404);
  });
});

describe('job lists and clean-up', () => {
  test('listPendingJobs, listCompletedJobs, deleteExpiredJobResults and deleteAllJobResults', async () => {
    const db = connect(open.url);
    await db.deleteAllJobResults();
    const sleeper = await db.createJob(() => db.route('/_admin/sleep').get({ duration: 30 }));
    const quick = await db.createJob(() => db.version());
    await waitFor('the quick job', async () => ((await quick.getCompleted()) ? true : undefined));

    assert.deepEqual(await db.listPendingJobs(), [sleeper.id]);
    assert.deepEqual(await db.listCompletedJobs(), [quick.id]);

    await db.deleteExpiredJobResults(Date.now() - 60_000);
    assert.deepEqual(await db.listCompletedJobs(), [quick.id], 'a threshold in the past keeps the result');
    await db.deleteExpiredJobResults(Date.now() + 1000);
    assert.deepEqual(await db.listCompletedJobs(), [], 'a threshold in the future removes it');

    const another = await db.createJob(() => db.version());
    await waitFor('another job', async () => ((await another.getCompleted()) ? true : undefined));
    await sleeper.cancel();
    await waitFor('the cancelled sleeper', async () => ((await db.listPendingJobs()).length === 0 ? true : undefined));
    await db.deleteAllJobResults();
    assert.deepEqual(await db.listCompletedJobs(), []);
    assert.deepEqual(await db.listPendingJobs(), []);
  });
});

describe('authentication', () => {
  test('without credentials requests fail with 401', async () => {
    const db = connect(guarded.url);
    await expectArangoError(db.version(), 401, 11);
    await expectArangoError(db.createJob(() => db.version()), 401, 11);
  });

  test('db.login() gets a JWT from /_open/auth that then carries every call and job', async () => {
    const db = connect(guarded.url);
    const token = await db.login('alice', 'x');
    assert.equal(token.split('.').length, 3);
    assert.equal((await db.version()).server, 'arango');
    const job = await db.createJob(() => db.version());
    assert.equal((await loadResult(job))?.server, 'arango');

    const sleeper = await db.createJob(() => db.route('/_admin/sleep').get({ duration: 30 }));
    const bob = connect(guarded.url).useBasicAuth('bob', 'y');
    assert.deepEqual(await bob.listPendingJobs(), [], 'bob does not see alice\'s job');
    await expectArangoError(bob.job(sleeper.id).getCompleted(), 404, 404);
    await expectArangoError(bob.job(sleeper.id).cancel(), 404, 404);
    assert.deepEqual(await db.listPendingJobs(), [sleeper.id]);
    await sleeper.cancel();
  });

  test('db.login() with a wrong password fails with 401', async () => {
    const db = connect(guarded.url);
    await expectArangoError(db.login('alice', 'wrong'), 401, 401);
  });
});
