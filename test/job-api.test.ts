// ArangoDB's /_api/job API, status code by status code, with and without /_db/_system/.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertArangoError, assertEmptyWithoutJobId, assertResultTrue, delay, parseJson, request, waitFor } from './helpers/http.js';
import {
  assertAscending, fetchWhenFinished, jobStatus, listJobs, storeJob, transitions, waitForJobDone,
} from './helpers/jobs.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

let server: ServerProcess;

before(async () => {
  server = await startServer(['--server.threads', '2']);
});

after(async () => {
  await server?.stop();
});

const PREFIXES = ['', '/_db/_system'];
const UNKNOWN_IDS = ['987654321', '123456789012345678901234567890'];

for (const prefix of PREFIXES) {
  const job = `${prefix}/_api/job`;

  describe(`PUT ${job}/{id} (fetch)`, () => {
    test('a finished job answers with its own status, headers and body plus x-arango-async-id, once', async () => {
      const jobId = await storeJob(server.url, 'POST', `${prefix}/_admin/echo`, { 'content-type': 'text/plain' }, 'payload');
      await waitForJobDone(server.url, jobId);
      const fetched = await request(server.url, 'PUT', `${job}/${jobId}`);
      assert.equal(fetched.status, 200);
      assert.equal(fetched.headers.get('x-arango-async-id'), jobId);
      assert.match(fetched.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal((parseJson(fetched) as { body: string }).body, 'payload');

      const again = await request(server.url, 'PUT', `${job}/${jobId}`);
      assertArangoError(again, 404, 404);
      assert.equal(again.headers.get('x-arango-async-id'), null);
      assert.equal((await request(server.url, 'GET', `${job}/${jobId}`)).status, 404);
    });

    test('a pending job answers 204 with no body and no job id; once cancelled, 410 errorNum 21 with its id, then 404', async () => {
      const jobId = await storeJob(server.url, 'GET', `${prefix}/_admin/sleep?duration=30`);
      assertEmptyWithoutJobId(await request(server.url, 'PUT', `${job}/${jobId}`), 204);
      assertEmptyWithoutJobId(await request(server.url, 'PUT', `${job}/${jobId}`), 204);

      assertResultTrue(await request(server.url, 'PUT', `${job}/${jobId}/cancel`));
      const cancelled = await fetchWhenFinished(server.url, jobId);
      assertArangoError(cancelled, 410, 21, 'canceled request');
      assert.equal(cancelled.headers.get('x-arango-async-id'), jobId, 'as ArangoDB, which stores the 410 as the answer of the job');
      assertArangoError(await request(server.url, 'PUT', `${job}/${jobId}`), 404, 404);
    });

    test('an unknown id is 404', async () => {
      for (const jobId of UNKNOWN_IDS) {
        const reply = await request(server.url, 'PUT', `${job}/${jobId}`);
        assertArangoError(reply, 404, 404);
        assert.equal(reply.headers.get('x-arango-async-id'), null);
      }
    });

    test('without an id it is 400', async () => {
      assertArangoError(await request(server.url, 'PUT', job), 400, 400);
      assertArangoError(await request(server.url, 'PUT', `${job}/`), 400, 400);
    });
  });

  describe(`PUT ${job}/{id}/cancel`, () => {
    test('answers {"result":true} for a job of the caller', async () => {
      const jobId = await storeJob(server.url, 'GET', `${prefix}/_admin/sleep?duration=30`);
      const reply = await request(server.url, 'PUT', `${job}/${jobId}/cancel`);
      assertResultTrue(reply);
      assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
      assertArangoError(await fetchWhenFinished(server.url, jobId), 410, 21);
    });

    test('an unknown id is 404', async () => {
      for (const jobId of UNKNOWN_IDS) assertArangoError(await request(server.url, 'PUT', `${job}/${jobId}/cancel`), 404, 404);
    });

    test('any other word than cancel is 400', async () => {
      const jobId = await storeJob(server.url, 'GET', `${prefix}/_api/version`);
      await waitForJobDone(server.url, jobId);
      for (const word of ['abort', 'CANCEL', 'cancel2']) {
        assertArangoError(await request(server.url, 'PUT', `${job}/${jobId}/${word}`), 400, 400);
      }
      // The refused calls did not touch the job.
      assert.equal((await fetchWhenFinished(server.url, jobId)).status, 200);
    });
  });

  describe(`GET ${job}/{id} (status)`, () => {
    test('200 for a finished job and 204 for a pending one, with empty bodies, without removing anything', async () => {
      const pendingId = await storeJob(server.url, 'GET', `${prefix}/_admin/sleep?duration=30`);
      const doneId = await storeJob(server.url, 'GET', `${prefix}/_api/version`);
      await waitForJobDone(server.url, doneId);

      for (let round = 0; round < 2; round++) {
        const done = await request(server.url, 'GET', `${job}/${doneId}`);
        assert.equal(done.status, 200);
        assert.equal(done.body, '');
        assertEmptyWithoutJobId(await request(server.url, 'GET', `${job}/${pendingId}`), 204);
      }
      // Status left the result in place: the fetch still gets it.
      const fetched = await request(server.url, 'PUT', `${job}/${doneId}`);
      assert.equal(fetched.status, 200);
      assert.equal(fetched.headers.get('x-arango-async-id'), doneId);
      assertResultTrue(await request(server.url, 'PUT', `${job}/${pendingId}/cancel`));
    });

    // python-arango's status() tells "not found" by the body's errorNum 404.
    test('404 for an unknown id, with the ArangoDB error body', async () => {
      for (const jobId of UNKNOWN_IDS) assertArangoError(await request(server.url, 'GET', `${job}/${jobId}`), 404, 404);
    });
  });

  describe(`DELETE ${job}/{id}`, () => {
    test('removes a result: 200 {"result":true}, then 404 everywhere', async () => {
      const jobId = await storeJob(server.url, 'GET', `${prefix}/_api/version`);
      await waitForJobDone(server.url, jobId);
      assertResultTrue(await request(server.url, 'DELETE', `${job}/${jobId}`));
      assert.equal(await jobStatus(server.url, jobId), 404);
      assertArangoError(await request(server.url, 'PUT', `${job}/${jobId}`), 404, 404);
      assertArangoError(await request(server.url, 'DELETE', `${job}/${jobId}`), 404, 404);
    });

    test('removes a pending job too: 200, then 404', async () => {
      const jobId = await storeJob(server.url, 'GET', `${prefix}/_admin/sleep?duration=0.3`);
      assertResultTrue(await request(server.url, 'DELETE', `${job}/${jobId}`));
      assertArangoError(await request(server.url, 'PUT', `${job}/${jobId}`), 404, 404);
      await delay(500);
      assert.equal(await jobStatus(server.url, jobId), 404, 'the result of the deleted job is not kept when it ends');
    });

    test('an unknown id is 404', async () => {
      for (const jobId of UNKNOWN_IDS) assertArangoError(await request(server.url, 'DELETE', `${job}/${jobId}`), 404, 404);
    });
  });
}

describe('GET /_api/job/done and /_api/job/pending', () => {
  test('list the ids as ascending strings; count limits the list', async () => {
    assertResultTrue(await request(server.url, 'DELETE', '/_api/job/all'));
    const doneIds: string[] = [];
    for (let index = 0; index < 3; index++) doneIds.push(await storeJob(server.url, 'GET', '/_api/version'));
    for (const jobId of doneIds) await waitForJobDone(server.url, jobId);
    const pendingIds = [
      await storeJob(server.url, 'GET', '/_admin/sleep?duration=30'),
      await storeJob(server.url, 'GET', '/_db/_system/_admin/sleep?duration=30'),
    ];

    for (const prefix of PREFIXES) {
      const done = await listJobs(`${server.url}${prefix}`, 'done');
      assert.deepEqual(done, doneIds);
      assert.deepEqual(await listJobs(`${server.url}${prefix}`, 'done', {}, 2), doneIds.slice(0, 2));
      assert.deepEqual(await listJobs(`${server.url}${prefix}`, 'pending'), pendingIds);
      assert.deepEqual(await listJobs(`${server.url}${prefix}`, 'pending', {}, 1), pendingIds.slice(0, 1));
    }
    assertAscending(doneIds);
    assertAscending(pendingIds);

    for (const jobId of pendingIds) assertResultTrue(await request(server.url, 'PUT', `/_api/job/${jobId}/cancel`));
    assertResultTrue(await request(server.url, 'DELETE', '/_api/job/all'));
  });

  test('count defaults to 100', async () => {
    const jobIds: string[] = [];
    for (let batch = 0; batch < 7; batch++) {
      jobIds.push(...await Promise.all(Array.from({ length: 15 }, () => storeJob(server.url, 'GET', '/_api/version'))));
    }
    await waitFor('105 jobs to finish', async () => ((await listJobs(server.url, 'pending')).length === 0 ? true : undefined));
    const listed = await listJobs(server.url, 'done');
    assert.equal(listed.length, 100);
    assertAscending(listed);
    const all = await listJobs(server.url, 'done', {}, 1000);
    assert.deepEqual(all, jobIds.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
    assertResultTrue(await request(server.url, 'DELETE', '/_api/job/all'));
  });

  test('any other type is 400', async () => {
    for (const type of ['running', 'cancelled', 'finished', 'all']) {
      assertArangoError(await request(server.url, 'GET', `/_api/job/${type}`), 400, 400);
      assertArangoError(await request(server.url, 'GET', `/_db/_system/_api/job/${type}?count=5`), 400, 400);
    }
  });
});

describe('DELETE /_api/job/expired and /_api/job/all', () => {
  test('expired?stamp= removes the results that finished before a fractional UNIX time', async () => {
    const older = await storeJob(server.url, 'GET', '/_api/version');
    await waitForJobDone(server.url, older);
    await delay(50);
    const stamp = (Date.now() / 1000 + 0.0005).toFixed(3);
    assert.match(stamp, /\.\d{3}$/);
    await delay(50);
    const newer = await storeJob(server.url, 'GET', '/_api/version');
    await waitForJobDone(server.url, newer);

    assertResultTrue(await request(server.url, 'DELETE', '/_api/job/expired?stamp=1'));
    assert.equal(await jobStatus(server.url, older), 200, 'a stamp in the past removes nothing');

    assertResultTrue(await request(server.url, 'DELETE', `/_db/_system/_api/job/expired?stamp=${stamp}`));
    assert.equal(await jobStatus(server.url, older), 404);
    assert.equal(await jobStatus(server.url, newer), 200);
    assertResultTrue(await request(server.url, 'DELETE', '/_api/job/all'));
  });

  test('expired without a stamp is 400', async () => {
    for (const query of ['', '?stamp=', '?stamp=soon', '?count=3']) {
      assertArangoError(await request(server.url, 'DELETE', `/_api/job/expired${query}`), 400, 400);
    }
  });

  test('all removes every result and does not stop running jobs', async () => {
    const finished = await storeJob(server.url, 'GET', '/_api/version');
    await waitForJobDone(server.url, finished);
    const doneBefore = await transitions(server.url, 'done');
    const cancelledBefore = await transitions(server.url, 'cancelled');
    await storeJob(server.url, 'GET', '/_admin/sleep?duration=0.5');

    assertResultTrue(await request(server.url, 'DELETE', '/_api/job/all'));
    assert.equal(await jobStatus(server.url, finished), 404);
    assert.deepEqual(await listJobs(server.url, 'done'), []);
    await waitFor('the running job to end', async () => ((await transitions(server.url, 'done')) > doneBefore ? true : undefined));
    assert.equal(await transitions(server.url, 'cancelled'), cancelledBefore, 'DELETE /_api/job/all cancelled nothing');
    assert.deepEqual(await listJobs(server.url, 'done'), [], 'the result of a job deleted while running is not kept');
  });
});
