import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuthRefusal, Authenticator, hashPassword, UNAUTHORIZED, UsersFileError, type AuthOutcome } from './authenticator.js';
import type { Caller } from './caller.js';

const SECRET = 'test-secret';
const ADD_USER_SCRIPT = fileURLToPath(new URL('../../scripts/add-user.js', import.meta.url));
let directory: string;
let usersFile: string;
let authenticator: Authenticator;

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

const ADDRESS = '192.0.2.1';

/** The caller a header names, or null for any refusal; waits for a password verification. */
async function callerOf(auth: Authenticator, authorization: string, address = ADDRESS): Promise<Caller | null> {
  const outcome: AuthOutcome = await auth.authenticate(authorization, address);
  return outcome instanceof AuthRefusal ? null : outcome;
}

async function tokenOf(auth: Authenticator, username: string, password: string): Promise<string | null> {
  const token = await auth.issueToken(username, password, ADDRESS);
  return typeof token === 'string' ? token : null;
}

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function signJwt(payload: object, secret = SECRET, header: object = { alg: 'HS256', typ: 'JWT' }): string {
  const signedPart = `${encode(header)}.${encode(payload)}`;
  return `${signedPart}.${createHmac('sha256', secret).update(signedPart).digest('base64url')}`;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function runAddUser(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = execFile(process.execPath, [ADD_USER_SCRIPT, ...args], (error, stdout, stderr) => {
      resolvePromise({ code: error === null ? 0 : Number(error.code), stdout, stderr });
    });
    child.stdin?.end(stdin ?? '');
  });
}

before(async () => {
  directory = await mkdtemp(join(tmpdir(), 'auth-test-'));
  usersFile = join(directory, 'users.json');
  const users = [
    { username: 'alice', passwordHash: hashPassword('alice-pw'), superuser: false },
    { username: 'root', passwordHash: hashPassword('root-pw'), superuser: false },
    { username: 'admin', passwordHash: hashPassword('admin-pw'), superuser: true },
  ];
  await writeFile(usersFile, JSON.stringify({ users }));
  authenticator = await Authenticator.load({ enabled: true, usersFile, jwtSecret: SECRET });
});

after(async () => {
  await rm(directory, { recursive: true, force: true });
});

test('disabled authentication makes every request the same superuser', async () => {
  const disabled = await Authenticator.load({ enabled: false });
  const caller = await callerOf(disabled, '');
  assert.deepEqual(caller, { username: 'root', superuser: true });
  assert.equal(await callerOf(disabled, basic('nobody', 'wrong')), caller);
});

test('Basic accepts a right password and refuses a wrong one or an unknown user', async () => {
  assert.deepEqual(await callerOf(authenticator, basic('alice', 'alice-pw')), { username: 'alice', superuser: false });
  assert.deepEqual(await callerOf(authenticator, basic('admin', 'admin-pw')), { username: 'admin', superuser: true });
  assert.equal(await callerOf(authenticator, basic('alice', 'wrong')), null);
  assert.equal(await callerOf(authenticator, basic('mallory', 'alice-pw')), null);
  assert.equal(await callerOf(authenticator, 'Basic not-base64-credentials'), null);
  assert.equal(await callerOf(authenticator, ''), null);
  assert.equal(await callerOf(authenticator, 'Digest abc'), null);
});

test('root is a superuser even when the file says otherwise', async () => {
  assert.deepEqual(await callerOf(authenticator, basic('root', 'root-pw')), { username: 'root', superuser: true });
});

test('a cached right password does not let a wrong one through', async () => {
  const right = basic('alice', 'alice-pw');
  assert.equal((await callerOf(authenticator, right))?.username, 'alice');
  assert.equal((await callerOf(authenticator, right))?.username, 'alice');
  assert.equal(await callerOf(authenticator, basic('alice', 'alice-pw ')), null);
  assert.equal(await callerOf(authenticator, basic('alice', 'wrong')), null);
  assert.equal((await callerOf(authenticator, right))?.username, 'alice');
});

test('a valid JWT names its user; the scheme is case-insensitive', async () => {
  const token = signJwt({ iss: 'arangodb', preferred_username: 'alice', exp: nowSeconds() + 60 });
  assert.deepEqual(await callerOf(authenticator, `bearer ${token}`), { username: 'alice', superuser: false });
  assert.deepEqual(await callerOf(authenticator, `Bearer ${token}`), { username: 'alice', superuser: false });
  const unknownUser = signJwt({ iss: 'arangodb', preferred_username: 'carol' });
  assert.deepEqual(await callerOf(authenticator, `bearer ${unknownUser}`), { username: 'carol', superuser: false });
});

test('a JWT with a bad signature, another issuer, another algorithm or past expiry is refused', async () => {
  const claims = { iss: 'arangodb', preferred_username: 'alice' };
  assert.equal(await callerOf(authenticator, `bearer ${signJwt(claims, 'other-secret')}`), null);
  const [header, payload] = signJwt(claims).split('.');
  assert.equal(await callerOf(authenticator, `bearer ${header}.${payload}.`), null);
  assert.equal(await callerOf(authenticator, `bearer ${header}.${encode({ ...claims, preferred_username: 'root' })}.${signJwt(claims).split('.')[2]}`), null);
  assert.equal(await callerOf(authenticator, `bearer ${signJwt({ ...claims, iss: 'someone' })}`), null);
  assert.equal(await callerOf(authenticator, `bearer ${signJwt({ preferred_username: 'alice' })}`), null);
  assert.equal(await callerOf(authenticator, `bearer ${signJwt(claims, SECRET, { alg: 'none' })}`), null);
  assert.equal(await callerOf(authenticator, `bearer ${signJwt({ ...claims, exp: nowSeconds() - 1 })}`), null);
  assert.equal(await callerOf(authenticator, `bearer ${signJwt({ ...claims, exp: 'never' })}`), null);
  assert.equal(await callerOf(authenticator, 'bearer not.a.jwt'), null);
  assert.equal(await callerOf(authenticator, 'bearer nodots'), null);
});

test('a JWT without preferred_username, or naming root, is the superuser', async () => {
  const serverToken = signJwt({ iss: 'arangodb', server_id: 'coordinator-1' });
  assert.deepEqual(await callerOf(authenticator, `bearer ${serverToken}`), { username: 'root', superuser: true });
  const rootToken = signJwt({ iss: 'arangodb', preferred_username: 'root' });
  assert.deepEqual(await callerOf(authenticator, `bearer ${rootToken}`), { username: 'root', superuser: true });
});

test('issueToken makes a one-hour JWT that authenticate accepts, and refuses bad credentials', async () => {
  const token = await tokenOf(authenticator, 'alice', 'alice-pw');
  assert.ok(token !== null);
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
  assert.equal(payload.iss, 'arangodb');
  assert.equal(payload.preferred_username, 'alice');
  assert.equal(payload.exp, (payload.iat as number) + 3600);
  assert.deepEqual(await callerOf(authenticator, `bearer ${token}`), { username: 'alice', superuser: false });
  assert.equal(await tokenOf(authenticator, 'alice', 'wrong'), null);
  assert.equal(await tokenOf(authenticator, 'mallory', 'alice-pw'), null);
});

test('without a configured secret, tokens are signed with a random per-process one', async () => {
  const first = await Authenticator.load({ enabled: true, usersFile });
  const second = await Authenticator.load({ enabled: true, usersFile });
  const token = await tokenOf(first, 'alice', 'alice-pw');
  assert.ok(token !== null);
  assert.equal((await callerOf(first, `bearer ${token}`))?.username, 'alice');
  assert.equal(await callerOf(second, `bearer ${token}`), null);
});

test('a missing or malformed users file fails to load with ERR_BAD_USERS_FILE', async () => {
  const isBadUsersFile = (pattern: RegExp) => (error: unknown) => {
    assert.ok(error instanceof UsersFileError);
    assert.equal(error.code, 'ERR_BAD_USERS_FILE');
    assert.match(error.message, pattern);
    return true;
  };
  const load = (file: string) => Authenticator.load({ enabled: true, usersFile: file });
  await assert.rejects(load(join(directory, 'absent.json')), isBadUsersFile(/cannot read users file/));
  const cases: Array<[string, RegExp]> = [
    ['{', /not valid JSON/],
    ['[]', /expected \{"users": \[\.\.\.\]\}/],
    ['{"users":[{"username":"a:b","passwordHash":"x"}]}', /users\[0\]\.username/],
    ['{"users":[{"username":"bob","passwordHash":"md5$abc"}]}', /users\[0\]\.passwordHash/],
    ['{"users":[{"username":"bob","passwordHash":"scrypt$1000$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA=="}]}', /users\[0\]\.passwordHash/],
    [JSON.stringify({ users: [{ username: 'bob', passwordHash: hashPassword('x'), superuser: 'yes' }] }), /users\[0\]\.superuser/],
  ];
  for (const [index, [content, pattern]] of cases.entries()) {
    const file = join(directory, `bad-${index}.json`);
    await writeFile(file, content);
    await assert.rejects(load(file), isBadUsersFile(pattern));
  }
  await assert.rejects(Authenticator.load({ enabled: true }), isBadUsersFile(/neither --server.users nor --server.jwt-secret/));
});

test('add-user writes a 0600 file that Authenticator accepts, and replaces a user of the same name', async () => {
  const file = join(directory, 'added.json');
  const added = await runAddUser(['--users', file, '--username', 'bob', '--password', 'first']);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /added user "bob"/);
  assert.equal((await stat(file)).mode & 0o777, 0o600);

  const replaced = await runAddUser([`--users=${file}`, '--username=bob', '--superuser'], 'second\nignored\n');
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.match(replaced.stdout, /replaced superuser "bob"/);
  const other = await runAddUser(['--users', file, '--username', 'carol'], 'carol-pw\n');
  assert.equal(other.code, 0, other.stderr);

  const loaded = await Authenticator.load({ enabled: true, usersFile: file });
  assert.equal(await callerOf(loaded, basic('bob', 'first')), null);
  assert.deepEqual(await callerOf(loaded, basic('bob', 'second')), { username: 'bob', superuser: true });
  assert.deepEqual(await callerOf(loaded, basic('carol', 'carol-pw')), { username: 'carol', superuser: false });
});

test('add-user exits with 2 on bad usage', async () => {
  const file = join(directory, 'usage.json');
  for (const args of [[], ['--users', file], ['--users', file, '--username', 'a:b', '--password', 'x'], ['--bogus']]) {
    const result = await runAddUser(args);
    assert.equal(result.code, 2, JSON.stringify(args));
    assert.match(result.stderr, /usage: /);
  }
  const noPassword = await runAddUser(['--users', file, '--username', 'dave'], '');
  assert.equal(noPassword.code, 2);
  assert.match(noPassword.stderr, /stdin is empty/);
});

/** An authenticator on a clock the test moves. */
async function throttledAuthenticator(limits: { maxFailuresPerAddress: number; maxFailuresPerUser: number }) {
  const clock = { nowMs: 1_000_000 };
  const auth = await Authenticator.load({ enabled: true, usersFile, jwtSecret: SECRET, ...limits, now: () => clock.nowMs });
  return { auth, clock };
}

function assertThrottled(outcome: AuthOutcome | Promise<AuthOutcome>, retryAfterSeconds: number): void {
  assert.ok(outcome instanceof AuthRefusal, 'refused at once, without a verification');
  assert.equal(outcome.status, 429);
  assert.equal(outcome.errorNum, 420);
  assert.equal(outcome.retryAfterSeconds, retryAfterSeconds);
}

test('a password is verified off the main thread: the event loop keeps turning while scrypt runs', async () => {
  const auth = await Authenticator.load({ enabled: true, usersFile });
  const outcome = auth.verify(basic('alice', 'alice-pw'), ADDRESS);
  assert.ok(outcome instanceof Promise, 'a password check is asynchronous');
  const order: string[] = [];
  const immediate = new Promise<void>((resolve) => setImmediate(() => { order.push('event loop turned'); resolve(); }));
  const verified = outcome.then((caller) => { order.push('verified'); return caller; });
  await Promise.all([immediate, verified]);
  assert.deepEqual(order, ['event loop turned', 'verified']);
  assert.deepEqual(await verified, { username: 'alice', superuser: false });
});

test('a verified header is cached: the next check is synchronous and needs no verification', async () => {
  const auth = await Authenticator.load({ enabled: true, usersFile });
  const header = basic('alice', 'alice-pw');
  assert.equal(auth.cachedCaller(header), undefined);
  await auth.authenticate(header, ADDRESS);
  assert.deepEqual(auth.cachedCaller(header), { username: 'alice', superuser: false });
  assert.deepEqual(auth.authenticate(header, ADDRESS), { username: 'alice', superuser: false });
});

test('concurrent checks of the same new header share one verification', async () => {
  const auth = await Authenticator.load({ enabled: true, usersFile });
  const header = basic('alice', 'wrong-but-shared');
  const first = auth.verify(header, ADDRESS);
  const second = auth.verify(header, ADDRESS);
  assert.ok(first instanceof Promise);
  assert.equal(second, first);
  assert.equal(await first, await second);
});

test('malformed Basic credentials are refused at once, without a verification', async () => {
  const valid = Buffer.from('alice:alice-pw').toString('base64');
  for (const header of [`Basic ${valid}junk`, `Basic junk${valid}`, `Basic  ${valid}`, `Basic ${valid} `, `Basic ${valid.replace(/=+$/, '')}`, 'Basic', `Basic ${Buffer.from('alice').toString('base64')}`]) {
    const outcome = authenticator.verify(header, ADDRESS);
    assert.ok(!(outcome instanceof Promise), `${header}: no verification`);
    assert.ok(outcome instanceof AuthRefusal && outcome.status === 401, header);
  }
});

test('after maxFailuresPerUser wrong passwords the user name gets 429 with a growing Retry-After, and the right password too', async () => {
  const { auth, clock } = await throttledAuthenticator({ maxFailuresPerAddress: 0, maxFailuresPerUser: 3 });
  for (let attempt = 0; attempt < 3; attempt++) assert.equal(await callerOf(auth, basic('alice', `wrong-${attempt}`), `198.51.100.${attempt}`), null);
  assertThrottled(auth.verify(basic('alice', 'wrong-3'), '203.0.113.9'), 1);
  assertThrottled(auth.verify(basic('alice', 'alice-pw'), '203.0.113.9'), 1);
  assert.equal((await callerOf(auth, basic('admin', 'admin-pw')))?.username, 'admin', 'other user names are not throttled');

  clock.nowMs += 1000;
  for (let attempt = 0; attempt < 3; attempt++) assert.equal(await callerOf(auth, basic('alice', `again-${attempt}`)), null);
  assertThrottled(auth.verify(basic('alice', 'again-3'), ADDRESS), 2);
  clock.nowMs += 2000;
  assert.equal((await callerOf(auth, basic('alice', 'alice-pw')))?.username, 'alice', 'the block ends');
});

test('after maxFailuresPerAddress failures the address gets 429; other addresses are still checked', async () => {
  const { auth } = await throttledAuthenticator({ maxFailuresPerAddress: 3, maxFailuresPerUser: 0 });
  for (const name of ['u1', 'u2', 'u3']) assert.equal(await callerOf(auth, basic(name, 'x')), null);
  assertThrottled(auth.verify(basic('u4', 'x'), ADDRESS), 1);
  assertThrottled(auth.verify(basic('alice', 'alice-pw'), ADDRESS), 1);
  assert.equal((await callerOf(auth, basic('alice', 'alice-pw'), '198.51.100.7'))?.username, 'alice');
});

test('cached credentials are never throttled, even from a blocked address for a blocked user name', async () => {
  const { auth } = await throttledAuthenticator({ maxFailuresPerAddress: 2, maxFailuresPerUser: 2 });
  const header = basic('alice', 'alice-pw');
  assert.equal((await callerOf(auth, header))?.username, 'alice');
  for (const password of ['w1', 'w2']) assert.equal(await callerOf(auth, basic('alice', password)), null);
  assertThrottled(auth.verify(basic('alice', 'w3'), ADDRESS), 1);
  assert.deepEqual(auth.authenticate(header, ADDRESS), { username: 'alice', superuser: false });
});

test('issueToken counts and honours the same throttle', async () => {
  const { auth } = await throttledAuthenticator({ maxFailuresPerAddress: 0, maxFailuresPerUser: 2 });
  assert.equal(await tokenOf(auth, 'alice', 'w1'), null);
  assert.equal(await tokenOf(auth, 'alice', 'w2'), null);
  const refused = await auth.issueToken('alice', 'alice-pw', ADDRESS);
  assert.ok(refused instanceof AuthRefusal);
  assert.equal(refused.status, 429);
  assertThrottled(auth.verify(basic('alice', 'alice-pw'), ADDRESS), 1);
});

test("one user's many tokens cannot push another user's credentials out of the cache", async () => {
  const auth = await Authenticator.load({ enabled: true, usersFile, jwtSecret: SECRET });
  const alice = basic('alice', 'alice-pw');
  await auth.authenticate(alice, ADDRESS);
  for (let index = 0; index < 2000; index++) {
    auth.authenticate(`bearer ${signJwt({ iss: 'arangodb', preferred_username: 'carol', jti: index })}`, ADDRESS);
  }
  assert.deepEqual(auth.cachedCaller(alice), { username: 'alice', superuser: false });
});

test('a JWT that is not yet valid (nbf) or whose signature is spelt non-canonically is refused', async () => {
  assert.equal(await callerOf(authenticator, `bearer ${signJwt({ iss: 'arangodb', preferred_username: 'alice', nbf: nowSeconds() + 60 })}`), null);
  assert.equal((await callerOf(authenticator, `bearer ${signJwt({ iss: 'arangodb', preferred_username: 'alice', nbf: nowSeconds() - 60 })}`))?.username, 'alice');
  const token = signJwt({ iss: 'arangodb', preferred_username: 'alice', jti: 'padded' });
  assert.equal(await callerOf(authenticator, `bearer ${token}=`), null);
});

test('IPv6 peers of one /64 share their address throttle', async () => {
  const { auth } = await throttledAuthenticator({ maxFailuresPerAddress: 2, maxFailuresPerUser: 0 });
  assert.equal(await callerOf(auth, basic('u1', 'x'), '2001:db8:1:2::a'), null);
  assert.equal(await callerOf(auth, basic('u2', 'x'), '2001:db8:1:2::b'), null);
  assertThrottled(auth.verify(basic('u3', 'x'), '2001:db8:1:2:ffff::c'), 1);
  const otherPrefix = auth.verify(basic('u3', 'x'), '2001:db8:1:3::a');
  assert.ok(otherPrefix instanceof Promise, 'another /64 is still checked');
  assert.equal(await otherPrefix, UNAUTHORIZED);
});

test('with the verification line full, a further password check is refused at once with 503 and Retry-After', async () => {
  const auth = await Authenticator.load({
    enabled: true, usersFile, jwtSecret: SECRET, maxFailuresPerAddress: 0, maxFailuresPerUser: 0, maxRunningVerifications: 2, maxWaitingVerifications: 4,
  });
  const inLine: Promise<AuthOutcome>[] = [];
  let refused: AuthOutcome | Promise<AuthOutcome> | undefined;
  // 2 running + 4 waiting; distinct headers, so none shares another's verification.
  for (let index = 0; index < 100 && refused === undefined; index++) {
    const outcome = auth.verify(basic(`flood-${index}`, 'x'), ADDRESS);
    if (outcome instanceof Promise) inLine.push(outcome);
    else refused = outcome;
  }
  assert.equal(inLine.length, 6);
  assert.ok(refused instanceof AuthRefusal);
  assert.equal(refused.status, 503);
  assert.equal(refused.errorNum, 503);
  assert.equal(refused.retryAfterSeconds, 1);
  assert.deepEqual(auth.authenticate(`bearer ${signJwt({ iss: 'arangodb', preferred_username: 'alice' })}`, ADDRESS), { username: 'alice', superuser: false }, 'JWTs need no place in line');
  for (const outcome of await Promise.all(inLine)) assert.equal(outcome, UNAUTHORIZED);
});
