// --server.authentication true: Basic against --server.users, HS256 JWTs signed with
// --server.jwt-secret, POST /_open/auth, 401 before anything is queued, and job ownership.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, makeUsersFile, nowSeconds, signJwt, type UsersFile } from './helpers/credentials.js';
import {
  assertArangoError, assertResultTrue, basicAuth, bearerAuth, parseJson, request,
} from './helpers/http.js';
import { fetchWhenFinished, jobStatus, listJobs, storeJob, waitForJobDone } from './helpers/jobs.js';
import { startServer, type ServerProcess } from './helpers/server-process.js';

const JWT_SECRET = 'test-secret-for-hs256';
const ALICE = basicAuth('alice', 'x');
const BOB = basicAuth('bob', 'y');
// A token without preferred_username is ArangoDB's superuser (server-to-server) token.
const ROOT = bearerAuth(signJwt(JWT_SECRET, { iss: 'arangodb', exp: nowSeconds() + 3600 }));

let users: UsersFile;
let server: ServerProcess;

before(async () => {
  users = await makeUsersFile([{ username: 'alice', password: 'x' }, { username: 'bob', password: 'y' }]);
  server = await startServer([
    '--server.threads', '1', '--server.authentication', 'true',
    '--server.users', users.path, '--server.jwt-secret', JWT_SECRET,
  ]);
});

after(async () => {
  await server?.stop();
  await users?.remove();
});

async function queuedAsSeenByRoot(): Promise<{ done: string[]; pending: string[] }> {
  return { done: await listJobs(server.url, 'done', ROOT), pending: await listJobs(server.url, 'pending', ROOT) };
}

/** Sends the request in all three modes and expects 401 each time, with nothing queued. */
async function assertUnauthorizedEverywhere(headers: Record<string, string>): Promise<void> {
  const before = await queuedAsSeenByRoot();
  for (const path of ['/_api/version', '/_db/_system/_admin/sleep?duration=0']) {
    for (const mode of [undefined, 'true', 'store']) {
      const reply = await request(server.url, 'GET', path, { headers: mode === undefined ? headers : { ...headers, 'x-arango-async': mode } });
      assertArangoError(reply, 401, 11);
      assert.equal(reply.headers.get('x-arango-async-id'), null);
    }
  }
  const posted = await request(server.url, 'POST', '/_admin/echo', { headers: { ...headers, 'x-arango-async': 'store' }, body: 'data' });
  assertArangoError(posted, 401, 11);
  assert.deepEqual(await queuedAsSeenByRoot(), before, 'nothing was queued');
}

describe('refused credentials are 401 before anything is queued', () => {
  test('no credentials at all', async () => {
    await assertUnauthorizedEverywhere({});
    assertArangoError(await request(server.url, 'GET', '/_api/job/pending'), 401, 11);
    assertArangoError(await request(server.url, 'PUT', '/_db/_system/_api/job/1'), 401, 11);
    assertArangoError(await request(server.url, 'DELETE', '/_api/job/all'), 401, 11);
    assertArangoError(await request(server.url, 'GET', '/_admin/metrics'), 401, 11);
  });

  test('Basic with a wrong password, an unknown user, or no colon', async () => {
    await assertUnauthorizedEverywhere(basicAuth('alice', 'wrong'));
    await assertUnauthorizedEverywhere(basicAuth('mallory', 'x'));
    await assertUnauthorizedEverywhere({ authorization: `Basic ${Buffer.from('alice').toString('base64')}` });
  });

  test('JWTs with another secret, another issuer, past their exp, or not HS256', async () => {
    await assertUnauthorizedEverywhere(bearerAuth(signJwt('another-secret', { iss: 'arangodb', preferred_username: 'alice' })));
    await assertUnauthorizedEverywhere(bearerAuth(signJwt(JWT_SECRET, { iss: 'someone-else', preferred_username: 'alice' })));
    await assertUnauthorizedEverywhere(bearerAuth(signJwt(JWT_SECRET, { iss: 'arangodb', preferred_username: 'alice', exp: nowSeconds() - 10 })));
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'arangodb' })).toString('base64url')}.`;
    await assertUnauthorizedEverywhere(bearerAuth(unsigned));
    await assertUnauthorizedEverywhere(bearerAuth(signJwt(JWT_SECRET, { iss: 'arangodb' }, { alg: 'HS512', typ: 'JWT' })));
    await assertUnauthorizedEverywhere(bearerAuth('not-a-token'));
  });

  test('an unknown scheme', async () => {
    await assertUnauthorizedEverywhere({ authorization: `Token ${signJwt(JWT_SECRET, { iss: 'arangodb' })}` });
  });

  test('without credentials an unknown path or method is 401, not 404 or 405, so routes cannot be enumerated', async () => {
    for (const [method, path] of [['GET', '/no/such/path'], ['GET', '/_db/_system/_api/nothing-here'], ['GET', '/_admin/echo'],
      ['GET', '/_api/job/nonsense'], ['POST', '/_admin/metrics']]) {
      const reply = await request(server.url, method, path, { headers: { 'x-arango-async': 'store' } });
      assertArangoError(reply, 401, 11);
      assert.match(reply.headers.get('www-authenticate') ?? '', /^Bearer /);
    }
    assertArangoError(await request(server.url, 'GET', '/no/such/path', { headers: ALICE }), 404, 404);
    assertArangoError(await request(server.url, 'GET', '/_admin/echo', { headers: ALICE }), 405, 405);
  });

  test('Basic credentials with junk before or after the base64, or not canonical, are 401', async () => {
    const valid = Buffer.from('alice:x').toString('base64');
    assert.equal((await request(server.url, 'GET', '/_api/version', { headers: { authorization: `Basic ${valid}` } })).status, 200);
    for (const credentials of [`${valid}junk`, `${valid}=`, valid.replace(/=+$/, ''), `${valid.slice(0, 4)}\t${valid.slice(4)}`, `x${valid}`, valid.replace('eA==', 'eB==')]) {
      await assertUnauthorizedEverywhere({ authorization: `Basic ${credentials}` });
    }
  });

  test('a JWT before its nbf, or with a non-canonical signature, is 401', async () => {
    const claims = { iss: 'arangodb', preferred_username: 'alice' };
    await assertUnauthorizedEverywhere(bearerAuth(signJwt(JWT_SECRET, { ...claims, nbf: nowSeconds() + 600 })));
    assert.equal((await request(server.url, 'GET', '/_api/version', { headers: bearerAuth(signJwt(JWT_SECRET, { ...claims, nbf: nowSeconds() - 5 })) })).status, 200);
    const token = signJwt(JWT_SECRET, { ...claims, jti: 'canonical' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // The 43rd character of a 32-byte signature carries 2 unused bits: flipping one decodes to the same bytes.
    const flipped = `${token.slice(0, -1)}${alphabet[alphabet.indexOf(token.at(-1)!) ^ 1]}`;
    await assertUnauthorizedEverywhere(bearerAuth(flipped));
    await assertUnauthorizedEverywhere(bearerAuth(`${token}=`));
  });
});

describe('accepted credentials', () => {
  test('Basic with a user of the users file', async () => {
    const reply = await request(server.url, 'GET', '/_db/_system/_api/version', { headers: ALICE });
    assert.equal(reply.status, 200);
    const jobId = await storeJob(server.url, 'GET', '/_api/version', ALICE);
    assert.equal((await fetchWhenFinished(server.url, jobId, ALICE)).status, 200);
  });

  test('an HS256 JWT with iss arangodb acts as its preferred_username', async () => {
    const aliceToken = bearerAuth(signJwt(JWT_SECRET, { iss: 'arangodb', preferred_username: 'alice', iat: nowSeconds(), exp: nowSeconds() + 600 }));
    assert.equal((await request(server.url, 'GET', '/_api/version', { headers: aliceToken })).status, 200);
    const jobId = await storeJob(server.url, 'GET', '/_api/version', aliceToken);
    await waitForJobDone(server.url, jobId, aliceToken);
    // The token's user owns the job: alice with her password sees it, bob does not.
    assert.equal(await jobStatus(server.url, jobId, BOB), 404);
    assert.equal(await jobStatus(server.url, jobId, ALICE), 200);
    assertResultTrue(await request(server.url, 'DELETE', `/_api/job/${jobId}`, { headers: ALICE }));
  });

  test('POST /_open/auth exchanges a password for a JWT signed with the server secret', async () => {
    for (const path of ['/_open/auth', '/_db/_system/_open/auth']) {
      const reply = await request(server.url, 'POST', path, { body: JSON.stringify({ username: 'alice', password: 'x' }) });
      assert.equal(reply.status, 200, reply.body);
      const { jwt } = parseJson(reply) as { jwt: string };
      assert.equal(typeof jwt, 'string');
      const [header, payload, signature] = jwt.split('.');
      assert.equal(createHmac('sha256', JWT_SECRET).update(`${header}.${payload}`).digest('base64url'), signature);
      const decoded = decodeJwt(jwt);
      assert.equal(decoded.header.alg, 'HS256');
      assert.equal(decoded.payload.iss, 'arangodb');
      assert.equal(decoded.payload.preferred_username, 'alice');
      assert.ok(typeof decoded.payload.exp === 'number' && decoded.payload.exp > nowSeconds());

      const jobId = await storeJob(server.url, 'GET', '/_api/version', bearerAuth(jwt));
      await waitForJobDone(server.url, jobId, ALICE);
      assert.equal((await fetchWhenFinished(server.url, jobId, ALICE)).headers.get('x-arango-async-id'), jobId);
    }
  });

  test('POST /_open/auth refuses a wrong password with 401 and a malformed body with 400', async () => {
    assertArangoError(await request(server.url, 'POST', '/_open/auth', { body: JSON.stringify({ username: 'alice', password: 'nope' }) }), 401, 401);
    assertArangoError(await request(server.url, 'POST', '/_open/auth', { body: JSON.stringify({ username: 'nobody', password: 'x' }) }), 401, 401);
    assertArangoError(await request(server.url, 'POST', '/_open/auth', { body: '{not json' }), 400, 400);
    assertArangoError(await request(server.url, 'POST', '/_open/auth', { body: JSON.stringify({ password: 'x' }) }), 400, 400);
  });

  test('a JWT naming root is a superuser', async () => {
    const aliceJob = await storeJob(server.url, 'GET', '/_api/version', ALICE);
    await waitForJobDone(server.url, aliceJob, ALICE);
    const rootByName = bearerAuth(signJwt(JWT_SECRET, { iss: 'arangodb', preferred_username: 'root' }));
    assert.equal(await jobStatus(server.url, aliceJob, rootByName), 200);
    assert.ok((await listJobs(server.url, 'done', rootByName)).includes(aliceJob));
    assertResultTrue(await request(server.url, 'DELETE', `/_api/job/${aliceJob}`, { headers: rootByName }));
  });
});

describe('ownership', () => {
  test('another user can neither see, fetch, cancel, delete nor list a job; its owner and superusers can', async () => {
    const finished = await storeJob(server.url, 'GET', '/_api/version', ALICE);
    const running = await storeJob(server.url, 'GET', '/_admin/sleep?duration=30', ALICE);
    await waitForJobDone(server.url, finished, ALICE);

    for (const jobId of [finished, running]) {
      assertArangoError(await request(server.url, 'GET', `/_api/job/${jobId}`, { headers: BOB }), 404, 404);
      assertArangoError(await request(server.url, 'PUT', `/_api/job/${jobId}`, { headers: BOB }), 404, 404);
      assertArangoError(await request(server.url, 'PUT', `/_db/_system/_api/job/${jobId}/cancel`, { headers: BOB }), 404, 404);
      assertArangoError(await request(server.url, 'DELETE', `/_api/job/${jobId}`, { headers: BOB }), 404, 404);
    }
    assert.ok(!(await listJobs(server.url, 'done', BOB)).includes(finished));
    assert.ok(!(await listJobs(server.url, 'pending', BOB)).includes(running));

    // Untouched by bob's attempts.
    assert.equal(await jobStatus(server.url, finished, ALICE), 200);
    assert.equal(await jobStatus(server.url, running, ALICE), 204);
    assert.ok((await listJobs(server.url, 'done', ALICE)).includes(finished));
    assert.ok((await listJobs(server.url, 'pending', ALICE)).includes(running));

    // A superuser sees and handles everyone's jobs.
    assert.ok((await listJobs(server.url, 'done', ROOT)).includes(finished));
    assert.ok((await listJobs(server.url, 'pending', ROOT)).includes(running));
    assert.equal(await jobStatus(server.url, running, ROOT), 204);
    assertResultTrue(await request(server.url, 'PUT', `/_api/job/${running}/cancel`, { headers: ROOT }));
    assertArangoError(await fetchWhenFinished(server.url, running, ALICE), 410, 21);
    const fetchedByRoot = await request(server.url, 'PUT', `/_api/job/${finished}`, { headers: ROOT });
    assert.equal(fetchedByRoot.status, 200);
    assert.equal(fetchedByRoot.headers.get('x-arango-async-id'), finished);
  });

  test('DELETE /_api/job/all and /expired remove only the caller\'s results; a superuser\'s remove all', async () => {
    const aliceJob = await storeJob(server.url, 'GET', '/_api/version', ALICE);
    const bobJob = await storeJob(server.url, 'GET', '/_api/version', BOB);
    await waitForJobDone(server.url, aliceJob, ALICE);
    await waitForJobDone(server.url, bobJob, BOB);

    assertResultTrue(await request(server.url, 'DELETE', '/_api/job/all', { headers: BOB }));
    assert.equal(await jobStatus(server.url, bobJob, BOB), 404);
    assert.equal(await jobStatus(server.url, aliceJob, ALICE), 200);

    const bobLater = await storeJob(server.url, 'GET', '/_api/version', BOB);
    await waitForJobDone(server.url, bobLater, BOB);
    assertResultTrue(await request(server.url, 'DELETE', `/_api/job/expired?stamp=${Date.now() / 1000 + 5}`, { headers: ALICE }));
    assert.equal(await jobStatus(server.url, aliceJob, ALICE), 404);
    assert.equal(await jobStatus(server.url, bobLater, BOB), 200);

    assertResultTrue(await request(server.url, 'DELETE', '/_api/job/all', { headers: ROOT }));
    assert.equal(await jobStatus(server.url, bobLater, BOB), 404);
    assert.deepEqual(await listJobs(server.url, 'done', ROOT), []);
  });
});
