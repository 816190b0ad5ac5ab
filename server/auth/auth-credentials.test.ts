import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createSecretKey } from 'node:crypto';
import { decodeBasicCredentials, signJwt, splitAuthorization, verifyJwt } from './auth-credentials.js';

const SECRET_TEXT = 'credentials-test-secret';
const SECRET = createSecretKey(Buffer.from(SECRET_TEXT));
const NOW_MS = 1_800_000_000_000;
const NOW_SECONDS = NOW_MS / 1000;

function encode(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function sign(payload: object): string {
  const signedPart = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(payload)}`;
  return `${signedPart}.${createHmac('sha256', SECRET_TEXT).update(signedPart).digest('base64url')}`;
}

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

test('Basic decodes canonical base64 of user:password; the password may hold colons', () => {
  const credentials = (text: string) => decodeBasicCredentials(Buffer.from(text).toString('base64'));
  assert.deepEqual(credentials('alice:x'), { username: 'alice', password: 'x' });
  assert.deepEqual(credentials('alice:a:b:c'), { username: 'alice', password: 'a:b:c' });
  assert.deepEqual(credentials('alice:'), { username: 'alice', password: '' });
  assert.deepEqual(credentials('jürgen:pässword'), { username: 'jürgen', password: 'pässword' });
});

test('Basic refuses junk before or after, missing padding, whitespace and trailing-bit variants', () => {
  const valid = Buffer.from('alice:x').toString('base64'); // YWxpY2U6eA==
  for (const variant of [
    `${valid}junk`, `junk${valid}`, `x${valid}`, `${valid}=`, valid.replace(/=+$/, ''), ` ${valid}`, `${valid} `,
    `${valid.slice(0, 4)} ${valid.slice(4)}`, `${valid.slice(0, 4)}\n${valid.slice(4)}`, valid.replace('eA==', 'eB=='),
    Buffer.from('alice:>>>').toString('base64url'), `${valid},${valid}`, '', '====',
  ]) {
    assert.equal(decodeBasicCredentials(variant), null, JSON.stringify(variant));
  }
});

test('Basic refuses no colon, an empty user name, control characters and invalid UTF-8', () => {
  for (const bytes of [Buffer.from('alice'), Buffer.from(':x'), Buffer.from('alice:x\u0000'), Buffer.from('alice:x\n'), Buffer.from([0x61, 0x3a, 0xff, 0xfe])]) {
    assert.equal(decodeBasicCredentials(bytes.toString('base64')), null, bytes.toString('hex'));
  }
});

test('the scheme is case-insensitive and followed by exactly one space', () => {
  assert.deepEqual(splitAuthorization('BaSiC abc'), { scheme: 'basic', credentials: 'abc' });
  assert.deepEqual(splitAuthorization('Basic  abc'), { scheme: 'basic', credentials: ' abc' });
  assert.equal(splitAuthorization('Basic'), null);
  assert.equal(splitAuthorization(' abc'), null);
});

test('a JWT whose nbf lies ahead is refused until then', () => {
  const token = sign({ iss: 'arangodb', preferred_username: 'alice', nbf: NOW_SECONDS + 60 });
  assert.equal(verifyJwt(token, SECRET, NOW_MS), null);
  assert.deepEqual(verifyJwt(token, SECRET, NOW_MS + 60_000), { username: 'alice', expiresAtMs: Infinity });
  assert.equal(verifyJwt(sign({ iss: 'arangodb', nbf: 'soon' }), SECRET, NOW_MS), null);
  assert.deepEqual(verifyJwt(sign({ iss: 'arangodb', nbf: NOW_SECONDS - 1, exp: NOW_SECONDS + 5 }), SECRET, NOW_MS), { username: undefined, expiresAtMs: NOW_MS + 5000 });
});

test('a JWT signature that is not canonical base64url is refused, though it decodes to the right bytes', () => {
  const token = sign({ iss: 'arangodb', preferred_username: 'alice' });
  assert.notEqual(verifyJwt(token, SECRET, NOW_MS), null);
  const dot = token.lastIndexOf('.');
  const signature = token.slice(dot + 1);
  // 32 bytes are 43 characters; the last one carries 2 unused bits, and flipping one decodes alike.
  const last = BASE64URL_ALPHABET.indexOf(signature[42]);
  const trailingBits = `${token.slice(0, dot + 1)}${signature.slice(0, 42)}${BASE64URL_ALPHABET[last ^ 1]}`;
  assert.deepEqual(Buffer.from(trailingBits.slice(dot + 1), 'base64url'), Buffer.from(signature, 'base64url'));
  for (const variant of [trailingBits, `${token}=`, `${token.slice(0, dot + 1)}${Buffer.from(signature, 'base64url').toString('base64')}`, `${token} `]) {
    if (variant === token) continue;
    assert.equal(verifyJwt(variant, SECRET, NOW_MS), null, variant.slice(dot));
  }
});

test('signJwt makes a token verifyJwt accepts, expiring after its lifetime', () => {
  const token = signJwt('alice', SECRET, NOW_MS, 3600);
  assert.deepEqual(verifyJwt(token, SECRET, NOW_MS), { username: 'alice', expiresAtMs: NOW_MS + 3_600_000 });
  assert.equal(verifyJwt(token, SECRET, NOW_MS + 3_600_000), null);
});
