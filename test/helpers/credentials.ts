import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ADD_USER_SCRIPT } from './server-process.js';

const execFileAsync = promisify(execFile);

export interface UsersFile {
  path: string;
  remove(): Promise<void>;
}

/** Makes a users file in a temporary folder with `node dist/scripts/add-user.js`, one user at a time. */
export async function makeUsersFile(users: readonly { username: string; password: string }[]): Promise<UsersFile> {
  const folder = await mkdtemp(join(tmpdir(), 'arango-jobs-users-'));
  const path = join(folder, 'users.json');
  for (const { username, password } of users) {
    await execFileAsync(process.execPath, [ADD_USER_SCRIPT, '--users', path, '--username', username, '--password', password]);
  }
  return { path, remove: () => rm(folder, { recursive: true, force: true }) };
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A JWT as ArangoDB issues them: HS256 over `header.payload`, base64url throughout. */
export function signJwt(secret: string, payload: object, header: object = { alg: 'HS256', typ: 'JWT' }): string {
  const signed = `${base64url(header)}.${base64url(payload)}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

/** Decodes the header and payload of a JWT (without checking anything). */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, payload };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * `Authorization` headers with an hour-long JWT signed with `secret`: for `username`, or, for
 * null, ArangoDB's superuser (server-to-server) token, which names no user.
 */
export function jwtHeaders(secret: string, username: string | null): Record<string, string> {
  const payload = username === null ? { iss: 'arangodb', exp: nowSeconds() + 3600 } : { iss: 'arangodb', preferred_username: username, exp: nowSeconds() + 3600 };
  return { authorization: `bearer ${signJwt(secret, payload)}` };
}
