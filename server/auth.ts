import { createHmac, createSecretKey, randomBytes, scryptSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Caller } from './caller.js';

// Callers handed out are frozen and shared between requests: never mutate one.
export type { Caller } from './caller.js';

/** One entry of the users file, as stored: `{"users":[UserEntry, ...]}`. */
export interface UserEntry {
  username: string;
  /** `scrypt$N$r$p$<salt base64>$<hash base64>`, as `hashPassword` makes it. */
  passwordHash: string;
  superuser: boolean;
}

/** The users file is missing, unreadable or malformed, or authentication could never succeed. */
export class UsersFileError extends Error {
  readonly code = 'ERR_BAD_USERS_FILE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsersFileError';
  }
}

interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

interface User {
  caller: Caller;
  password: ScryptHash;
}

interface ValidatedUser {
  entry: UserEntry;
  password: ScryptHash;
}

interface CacheEntry {
  caller: Caller;
  /** Infinity for Basic credentials, the token's `exp` for a JWT. */
  expiresAtMs: number;
}

const SCRYPT_COST = { N: 16384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
// Bounds what a users file may ask of each verification; scrypt needs about 128 * N * r bytes.
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
const CACHE_CAPACITY = 1024;
const TOKEN_LIFETIME_SECONDS = 3600;
const JWT_ISSUER = 'arangodb';
const JWT_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const SUPERUSER: Caller = Object.freeze({ username: 'root', superuser: true });
// An unknown user name still costs one scrypt run, so response time does not reveal which names exist.
const DUMMY_PASSWORD: ScryptHash = { ...SCRYPT_COST, salt: randomBytes(SALT_BYTES), hash: randomBytes(HASH_BYTES) };

/** Hashes a password for the users file: scrypt (N=16384, r=8, p=1) with a random 16-byte salt. */
export function hashPassword(password: string): string {
  const salt = randomBytes(SALT_BYTES);
  const hash = scryptSync(password, salt, HASH_BYTES, SCRYPT_COST);
  return ['scrypt', SCRYPT_COST.N, SCRYPT_COST.r, SCRYPT_COST.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

function parsePasswordHash(text: string): ScryptHash | undefined {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt' || !BASE64.test(parts[4]) || !BASE64.test(parts[5])) return undefined;
  const [N, r, p] = parts.slice(1, 4).map((part) => (/^\d{1,8}$/.test(part) ? Number(part) : 0));
  const powerOfTwo = N >= 2 && N <= 2 ** 24 && (N & (N - 1)) === 0;
  if (!powerOfTwo || r < 1 || r > 32 || p < 1 || p > 16 || 128 * N * r > MAX_SCRYPT_MEMORY) return undefined;
  const salt = Buffer.from(parts[4], 'base64');
  const hash = Buffer.from(parts[5], 'base64');
  return hash.length >= 16 ? { N, r, p, salt, hash } : undefined;
}

function verifyPassword(password: string, stored: ScryptHash): boolean {
  const { N, r, p } = stored;
  const derived = scryptSync(password, stored.salt, stored.hash.length, { N, r, p, maxmem: 2 * MAX_SCRYPT_MEMORY });
  return timingSafeEqual(derived, stored.hash);
}

function validateUser(item: unknown, where: string): ValidatedUser {
  if (typeof item !== 'object' || item === null) throw new UsersFileError(`${where}: expected an object`);
  const { username, passwordHash, superuser = false } = item as Record<string, unknown>;
  // Basic credentials are `user:password`, so a name with a colon could never log in.
  if (typeof username !== 'string' || username === '' || username.includes(':')) {
    throw new UsersFileError(`${where}.username: expected a non-empty string without ":"`);
  }
  const password = typeof passwordHash === 'string' ? parsePasswordHash(passwordHash) : undefined;
  if (password === undefined || typeof passwordHash !== 'string') {
    throw new UsersFileError(`${where}.passwordHash: expected "scrypt$N$r$p$<salt base64>$<hash base64>"`);
  }
  if (typeof superuser !== 'boolean') throw new UsersFileError(`${where}.superuser: expected true or false`);
  return { entry: { username, passwordHash, superuser }, password };
}

async function readValidatedUsers(path: string): Promise<ValidatedUser[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsersFileError(`--server.users: cannot read users file ${path}: ${(error as Error).message}`, { cause: error });
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new UsersFileError(`--server.users: users file ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const users = (document as { users?: unknown } | null)?.users;
  if (!Array.isArray(users)) throw new UsersFileError(`--server.users: users file ${path}: expected {"users": [...]}`);
  const seen = new Set<string>();
  return users.map((item: unknown, index) => {
    const user = validateUser(item, `users file ${path}: users[${index}]`);
    if (seen.has(user.entry.username)) {
      throw new UsersFileError(`users file ${path}: user "${user.entry.username}" appears more than once`);
    }
    seen.add(user.entry.username);
    return user;
  });
}

/**
 * Reads and validates a users file.
 * @throws UsersFileError (`cause` holds the fs error when the file cannot be read)
 */
export async function readUsersFile(path: string): Promise<UserEntry[]> {
  return (await readValidatedUsers(path)).map((user) => user.entry);
}

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch (error) {
    // A token whose segment is not JSON is simply not a valid token.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * Checks `Authorization` headers the way ArangoDB does: Basic against the users file,
 * Bearer as an HS256 JWT with `iss: "arangodb"`.
 */
export class Authenticator {
  readonly #enabled: boolean;
  readonly #users: ReadonlyMap<string, User>;
  readonly #secret: KeyObject;
  // scrypt takes tens of ms on purpose; successes are remembered by their exact header so that a
  // repeated request costs one Map lookup, while any other header (a wrong password) misses and is checked.
  // Map order is insertion order, so the first key is the oldest.
  readonly #cache = new Map<string, CacheEntry>();

  private constructor(enabled: boolean, users: ReadonlyMap<string, User>, secret: KeyObject) {
    this.#enabled = enabled;
    this.#users = users;
    this.#secret = secret;
  }

  /**
   * Reads the users file (when given) and prepares the JWT secret; without one, a random
   * 32-byte secret is made, so tokens only last as long as the process.
   * @throws UsersFileError
   */
  static async load(options: { enabled: boolean; usersFile?: string; jwtSecret?: string }): Promise<Authenticator> {
    if (options.enabled && options.usersFile === undefined && options.jwtSecret === undefined) {
      throw new UsersFileError('--server.authentication is true but neither --server.users nor --server.jwt-secret is set, so no request could authenticate');
    }
    const users = new Map<string, User>();
    const validated = options.usersFile === undefined ? [] : await readValidatedUsers(options.usersFile);
    for (const { entry, password } of validated) {
      const superuser = entry.superuser || entry.username === 'root';
      users.set(entry.username, { caller: Object.freeze({ username: entry.username, superuser }), password });
    }
    const secret = options.jwtSecret === undefined ? randomBytes(32) : Buffer.from(options.jwtSecret, 'utf8');
    return new Authenticator(options.enabled, users, createSecretKey(secret));
  }

  /** The caller an `Authorization` header names, or null when it proves nothing. Synchronous: runs on every request. */
  authenticate(authorization: string): Caller | null {
    if (!this.#enabled) return SUPERUSER;
    const cached = this.#cache.get(authorization);
    if (cached !== undefined) {
      if (cached.expiresAtMs > Date.now()) return cached.caller;
      this.#cache.delete(authorization);
      return null;
    }
    const space = authorization.indexOf(' ');
    if (space === -1) return null;
    // Authentication schemes are case-insensitive (RFC 9110 section 11.1); ArangoDB clients send "bearer".
    const scheme = authorization.slice(0, space).toLowerCase();
    const credentials = authorization.slice(space + 1).trim();
    const entry = scheme === 'basic' ? this.#checkBasic(credentials) : scheme === 'bearer' ? this.#checkBearer(credentials) : null;
    if (entry === null) return null;
    if (this.#cache.size >= CACHE_CAPACITY) {
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
    this.#cache.set(authorization, entry);
    return entry.caller;
  }

  /** ArangoDB's `POST /_open/auth`: a JWT valid for an hour, or null for bad credentials. */
  issueToken(username: string, password: string): string | null {
    const user = this.#users.get(username);
    if (!verifyPassword(password, user?.password ?? DUMMY_PASSWORD) || user === undefined) return null;
    const issuedAt = Math.floor(Date.now() / 1000);
    const payload = { iss: JWT_ISSUER, preferred_username: username, iat: issuedAt, exp: issuedAt + TOKEN_LIFETIME_SECONDS };
    const signedPart = `${JWT_HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${signedPart}.${createHmac('sha256', this.#secret).update(signedPart).digest('base64url')}`;
  }

  #checkBasic(credentials: string): CacheEntry | null {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return null;
    const user = this.#users.get(decoded.slice(0, colon));
    if (!verifyPassword(decoded.slice(colon + 1), user?.password ?? DUMMY_PASSWORD) || user === undefined) return null;
    return { caller: user.caller, expiresAtMs: Infinity };
  }

  #checkBearer(token: string): CacheEntry | null {
    const firstDot = token.indexOf('.');
    const secondDot = token.indexOf('.', firstDot + 1);
    if (firstDot <= 0 || secondDot === -1 || token.includes('.', secondDot + 1)) return null;
    const expected = createHmac('sha256', this.#secret).update(token.slice(0, secondDot)).digest();
    const signature = Buffer.from(token.slice(secondDot + 1), 'base64url');
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return null;

    const header = decodeJsonObject(token.slice(0, firstDot));
    const payload = decodeJsonObject(token.slice(firstDot + 1, secondDot));
    if (header?.alg !== 'HS256' || payload?.iss !== JWT_ISSUER) return null;
    let expiresAtMs = Infinity;
    if (payload.exp !== undefined) {
      if (typeof payload.exp !== 'number' || payload.exp * 1000 <= Date.now()) return null;
      expiresAtMs = payload.exp * 1000;
    }
    const username = payload.preferred_username;
    // ArangoDB treats a token without a user name as a superuser (server-to-server) token.
    if (username === undefined) return { caller: SUPERUSER, expiresAtMs };
    if (typeof username !== 'string' || username === '') return null;
    return { caller: this.#callerNamed(username), expiresAtMs };
  }

  // The secret vouches for the name, so a name missing from the users file is still a (non-super) user.
  #callerNamed(username: string): Caller {
    const known = this.#users.get(username)?.caller;
    if (known !== undefined) return known;
    return username === 'root' ? SUPERUSER : Object.freeze({ username, superuser: false });
  }
}
