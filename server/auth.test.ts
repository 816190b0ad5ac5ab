import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Authenticator, hashPassword, UsersFileError } from './auth.js';

const SECRET = 'test-secret';
const ADD_USER_SCRIPT = fileURLToPath(new URL('../scripts/add-user.js', import.meta.url));
let directory: string;
let usersFile: string;
let authenticator: Authenticator;

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
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
  const caller = disabled.authenticate('');
  assert.deepEqual(caller, { username: 'root', superuser: true });
  assert.equal(disabled.authenticate(basic('nobody', 'wrong')), caller);
});

test('Basic accepts a right password and refuses a wrong one or an unknown user', () => {
  assert.deepEqual(authenticator.authenticate(basic('alice', 'alice-pw')), { username: 'alice', superuser: false });
  assert.deepEqual(authenticator.authenticate(basic('admin', 'admin-pw')), { username: 'admin', superuser: true });
  assert.equal(authenticator.authenticate(basic('alice', 'wrong')), null);
  assert.equal(authenticator.authenticate(basic('mallory', 'alice-pw')), null);
  assert.equal(authenticator.authenticate('Basic not-base64-credentials'), null);
  assert.equal(authenticator.authenticate(''), null);
  assert.equal(authenticator.authenticate('Digest abc'), null);
});

test('root is a superuser even when the file says otherwise', () => {
  assert.deepEqual(authenticator.authenticate(basic('root', 'root-pw')), { username: 'root', superuser: true });
});

test('a cached right password does not let a wrong one through', () => {
  const right = basic('alice', 'alice-pw');
  assert.equal(authenticator.authenticate(right)?.username, 'alice');
  assert.equal(authenticator.authenticate(right)?.username, 'alice');
  assert.equal(authenticator.authenticate(basic('alice', 'alice-pw ')), null);
  assert.equal(authenticator.authenticate(basic('alice', 'wrong')), null);
  assert.equal(authenticator.authenticate(right)?.username, 'alice');
});

test('a valid JWT names its user; the scheme is case-insensitive', () => {
  const token = signJwt({ iss: 'arangodb', preferred_username: 'alice', exp: nowSeconds() + 60 });
  assert.deepEqual(authenticator.authenticate(`bearer ${token}`), { username: 'alice', superuser: false });
  assert.deepEqual(authenticator.authenticate(`Bearer ${token}`), { username: 'alice', superuser: false });
  const unknownUser = signJwt({ iss: 'arangodb', preferred_username: 'carol' });
  assert.deepEqual(authenticator.authenticate(`bearer ${unknownUser}`), { username: 'carol', superuser: false });
});

test('a JWT with a bad signature, another issuer, another algorithm or past expiry is refused', () => {
  const claims = { iss: 'arangodb', preferred_username: 'alice' };
  assert.equal(authenticator.authenticate(`bearer ${signJwt(claims, 'other-secret')}`), null);
  const [header, payload] = signJwt(claims).split('.');
  assert.equal(authenticator.authenticate(`bearer ${header}.${payload}.`), null);
  assert.equal(authenticator.authenticate(`bearer ${header}.${encode({ ...claims, preferred_username: 'root' })}.${signJwt(claims).split('.')[2]}`), null);
  assert.equal(authenticator.authenticate(`bearer ${signJwt({ ...claims, iss: 'someone' })}`), null);
  assert.equal(authenticator.authenticate(`bearer ${signJwt({ preferred_username: 'alice' })}`), null);
  assert.equal(authenticator.authenticate(`bearer ${signJwt(claims, SECRET, { alg: 'none' })}`), null);
  assert.equal(authenticator.authenticate(`bearer ${signJwt({ ...claims, exp: nowSeconds() - 1 })}`), null);
  assert.equal(authenticator.authenticate(`bearer ${signJwt({ ...claims, exp: 'never' })}`), null);
  assert.equal(authenticator.authenticate('bearer not.a.jwt'), null);
  assert.equal(authenticator.authenticate('bearer nodots'), null);
});

test('a JWT without preferred_username, or naming root, is the superuser', () => {
  const serverToken = signJwt({ iss: 'arangodb', server_id: 'coordinator-1' });
  assert.deepEqual(authenticator.authenticate(`bearer ${serverToken}`), { username: 'root', superuser: true });
  const rootToken = signJwt({ iss: 'arangodb', preferred_username: 'root' });
  assert.deepEqual(authenticator.authenticate(`bearer ${rootToken}`), { username: 'root', superuser: true });
});

test('issueToken makes a one-hour JWT that authenticate accepts, and refuses bad credentials', () => {
  const token = authenticator.issueToken('alice', 'alice-pw');
  assert.ok(token !== null);
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
  assert.equal(payload.iss, 'arangodb');
  assert.equal(payload.preferred_username, 'alice');
  assert.equal(payload.exp, (payload.iat as number) + 3600);
  assert.deepEqual(authenticator.authenticate(`bearer ${token}`), { username: 'alice', superuser: false });
  assert.equal(authenticator.issueToken('alice', 'wrong'), null);
  assert.equal(authenticator.issueToken('mallory', 'alice-pw'), null);
});

test('without a configured secret, tokens are signed with a random per-process one', async () => {
  const first = await Authenticator.load({ enabled: true, usersFile });
  const second = await Authenticator.load({ enabled: true, usersFile });
  const token = first.issueToken('alice', 'alice-pw');
  assert.ok(token !== null);
  assert.equal(first.authenticate(`bearer ${token}`)?.username, 'alice');
  assert.equal(second.authenticate(`bearer ${token}`), null);
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
  assert.equal(loaded.authenticate(basic('bob', 'first')), null);
  assert.deepEqual(loaded.authenticate(basic('bob', 'second')), { username: 'bob', superuser: true });
  assert.deepEqual(loaded.authenticate(basic('carol', 'carol-pw')), { username: 'carol', superuser: false });
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
