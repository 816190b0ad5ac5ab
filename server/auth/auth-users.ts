import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';

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

export interface ScryptHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

export interface ValidatedUser {
  entry: UserEntry;
  password: ScryptHash;
}

const SCRYPT_COST = { N: 16384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
// Bounds what a users file may ask of each verification; scrypt needs about 128 * N * r bytes.
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Checked when the user name is unknown, so that response time does not reveal which names exist. */
export const DUMMY_PASSWORD: ScryptHash = { ...SCRYPT_COST, salt: randomBytes(SALT_BYTES), hash: randomBytes(HASH_BYTES) };

/** Hashes a password for the users file: scrypt (N=16384, r=8, p=1) with a random 16-byte salt. */
export function hashPassword(password: string): string {
  const salt = randomBytes(SALT_BYTES);
  // Synchronous on purpose: only the add-user script and tests call it, never a request.
  const hash = scryptSync(password, salt, HASH_BYTES, SCRYPT_COST);
  return ['scrypt', SCRYPT_COST.N, SCRYPT_COST.r, SCRYPT_COST.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/**
 * Whether `password` matches `stored`. Runs scrypt on libuv's thread pool (~50 ms of CPU there),
 * never on the main thread, where it would stall every other request.
 */
export function verifyPassword(password: string, stored: ScryptHash): Promise<boolean> {
  const { N, r, p } = stored;
  return new Promise((resolve, reject) => {
    scrypt(password, stored.salt, stored.hash.length, { N, r, p, maxmem: 2 * MAX_SCRYPT_MEMORY }, (error, derived) => {
      if (error !== null) reject(error);
      else resolve(timingSafeEqual(derived, stored.hash));
    });
  });
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

/** Reads a users file and parses every hash. @throws UsersFileError */
export async function readValidatedUsers(path: string): Promise<ValidatedUser[]> {
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
