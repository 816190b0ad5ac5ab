import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { ERRORS, type ServerError } from '../errors/index.js';
import { CredentialCache } from './auth-cache.js';
import { decodeBasicCredentials, signJwt, splitAuthorization, verifyJwt } from './auth-credentials.js';
import { addressThrottleKey, FailureThrottle, userThrottleKey, type FailureThrottleOptions } from './auth-throttle.js';
import { DUMMY_PASSWORD, readValidatedUsers, UsersFileError, verifyPassword, type ScryptHash } from './auth-users.js';
import { VerificationQueue } from './auth-verification-queue.js';
import type { Caller } from './caller.js';

// Callers handed out are frozen and shared between requests: never mutate one.
export type { Caller } from './caller.js';
export { hashPassword, readUsersFile, UsersFileError, type UserEntry } from './auth-users.js';

/** Why a request is not let in, as the client sees it; `retryAfterSeconds` > 0 adds a `Retry-After` header. */
export class AuthRefusal {
  readonly status: number;
  readonly errorNum: number;
  constructor(readonly error: ServerError, readonly message: string, readonly retryAfterSeconds = 0) {
    this.status = error.status;
    this.errorNum = error.errorNum;
  }
}

/** Credentials that prove nothing: 401. */
export const UNAUTHORIZED = new AuthRefusal(ERRORS.unauthorized, 'not authorized to execute this request');

/** A caller, or why not; a Promise only while a password is being verified. */
export type AuthOutcome = Caller | AuthRefusal;

export interface AuthenticatorOptions {
  enabled: boolean;
  usersFile?: string;
  jwtSecret?: string;
  /** Failed password checks per client address within a minute before 429; 0 turns it off. @defaultValue 30 */
  maxFailuresPerAddress?: number;
  /** Failed password checks per user name within a minute before 429; 0 turns it off. @defaultValue 10 */
  maxFailuresPerUser?: number;
  /** Password verifications run at once (each takes a libuv pool thread). @defaultValue 2 */
  maxRunningVerifications?: number;
  /** Password verifications waiting for a turn before further ones get 503. @defaultValue 64 */
  maxWaitingVerifications?: number;
  /** Injectable clock, in ms. @defaultValue Date.now */
  now?: () => number;
}

interface User {
  caller: Caller;
  password: ScryptHash;
}

const CACHE_CAPACITY = 1024;
// A client holds a few live tokens and one password at a time; 8 leaves room for rotation.
const CACHE_PER_USER = 8;
const TOKEN_LIFETIME_SECONDS = 3600;
// Two of libuv's four pool threads: the other two keep serving fs and DNS (webhook checks). At
// ~50 ms per scrypt that is ~40 verifications/s; 64 waiting is at most ~1.6 s in line.
const MAX_RUNNING_VERIFICATIONS = 2;
const MAX_WAITING_VERIFICATIONS = 64;
// A full line is the server's overload, not this client's fault (it may be its first attempt):
// 503 Service Unavailable with Retry-After (RFC 9110 section 15.6.4), ArangoDB's errorNum 503.
const OVERLOADED = new AuthRefusal(ERRORS.overloaded, 'too many password verifications in progress, retry later', 1);
const THROTTLE_TIMING = {
  windowMs: 60_000, firstBlockMs: 1000, maxBlockMs: 300_000, forgetAfterMs: 900_000, capacity: 10_000,
} as const satisfies Omit<FailureThrottleOptions, 'maxFailures'>;

const SUPERUSER: Caller = Object.freeze({ username: 'root', superuser: true });

/**
 * Checks `Authorization` headers the way ArangoDB does: Basic against the users file, Bearer as
 * an HS256 JWT with `iss: "arangodb"`. A header verified before costs one Map lookup
 * (`cachedCaller`); JWTs verify synchronously (one HMAC); a password costs a scrypt run on the
 * libuv pool, behind a bounded line and a throttle of failures per client address and user name.
 */
export class Authenticator {
  readonly #enabled: boolean;
  readonly #users: ReadonlyMap<string, User>;
  readonly #secret: KeyObject;
  readonly #now: () => number;
  readonly #cache = new CredentialCache(CACHE_CAPACITY, CACHE_PER_USER);
  readonly #verifications: VerificationQueue;
  readonly #addressFailures: FailureThrottle;
  readonly #userFailures: FailureThrottle;
  /** Basic headers being verified: a concurrent request with the same header waits for that result. */
  readonly #pending = new Map<string, Promise<AuthOutcome>>();

  private constructor(enabled: boolean, users: ReadonlyMap<string, User>, secret: KeyObject, options: AuthenticatorOptions) {
    this.#enabled = enabled;
    this.#users = users;
    this.#secret = secret;
    this.#now = options.now ?? Date.now;
    this.#verifications = new VerificationQueue(
      options.maxRunningVerifications ?? MAX_RUNNING_VERIFICATIONS, options.maxWaitingVerifications ?? MAX_WAITING_VERIFICATIONS);
    this.#addressFailures = new FailureThrottle({ ...THROTTLE_TIMING, maxFailures: options.maxFailuresPerAddress ?? 30 });
    this.#userFailures = new FailureThrottle({ ...THROTTLE_TIMING, maxFailures: options.maxFailuresPerUser ?? 10 });
  }

  /**
   * Reads the users file (when given) and prepares the JWT secret; without one, a random
   * 32-byte secret is made, so tokens only last as long as the process.
   * @throws UsersFileError
   */
  static async load(options: AuthenticatorOptions): Promise<Authenticator> {
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
    return new Authenticator(options.enabled, users, createSecretKey(secret), options);
  }

  /** The caller of a header verified before (the superuser with authentication off), else undefined. Runs on every request. */
  cachedCaller(authorization: string): Caller | undefined {
    if (!this.#enabled) return SUPERUSER;
    return this.#cache.get(authorization, this.#now());
  }

  /**
   * Checks a header that `cachedCaller` did not know. Synchronous for everything but a Basic
   * password that must be verified: refused credentials, a throttled address or user (429,
   * costing no scrypt), a full verification line (503) and JWTs.
   */
  verify(authorization: string, clientAddress: string): AuthOutcome | Promise<AuthOutcome> {
    const cached = this.cachedCaller(authorization);
    if (cached !== undefined) return cached;
    const parts = splitAuthorization(authorization);
    if (parts === null) return UNAUTHORIZED;
    if (parts.scheme === 'bearer') return this.#checkBearer(authorization, parts.credentials);
    if (parts.scheme !== 'basic') return UNAUTHORIZED;
    const credentials = decodeBasicCredentials(parts.credentials);
    if (credentials === null) return UNAUTHORIZED;
    const pending = this.#pending.get(authorization);
    if (pending !== undefined) return pending;
    const outcome = this.#checkPassword(credentials.username, credentials.password, clientAddress);
    if (!(outcome instanceof Promise)) return outcome;
    const verified = outcome.then(
      (result) => {
        this.#pending.delete(authorization);
        if (!(result instanceof AuthRefusal)) this.#cache.set(authorization, result, Infinity);
        return result;
      },
      (error: unknown) => {
        this.#pending.delete(authorization);
        throw error;
      },
    );
    this.#pending.set(authorization, verified);
    return verified;
  }

  /** `cachedCaller`, else `verify`. */
  authenticate(authorization: string, clientAddress: string): AuthOutcome | Promise<AuthOutcome> {
    return this.cachedCaller(authorization) ?? this.verify(authorization, clientAddress);
  }

  /** ArangoDB's `POST /_open/auth`: a JWT valid for an hour, or why not (401 for bad credentials). */
  async issueToken(username: string, password: string, clientAddress: string): Promise<string | AuthRefusal> {
    const outcome = await this.#checkPassword(username, password, clientAddress);
    if (outcome instanceof AuthRefusal) return outcome;
    return signJwt(username, this.#secret, this.#now(), TOKEN_LIFETIME_SECONDS);
  }

  #checkPassword(username: string, password: string, clientAddress: string): AuthOutcome | Promise<AuthOutcome> {
    const now = this.#now();
    const addressKey = addressThrottleKey(clientAddress);
    const userKey = userThrottleKey(username);
    const blockedForMs = Math.max(this.#addressFailures.blockedForMs(addressKey, now), this.#userFailures.blockedForMs(userKey, now));
    if (blockedForMs > 0) {
      // ArangoDB has no error number for "too many requests"; 420 is its "enhance your calm",
      // which it answers to clients that call too often.
      const retryAfterSeconds = Math.ceil(blockedForMs / 1000);
      return new AuthRefusal(ERRORS.loginThrottled, `too many failed login attempts, retry in ${retryAfterSeconds} s`, retryAfterSeconds);
    }
    const user = this.#users.get(username);
    // An unknown name costs a verification too, so that timing does not reveal which names exist.
    const running = this.#verifications.run(() => verifyPassword(password, user?.password ?? DUMMY_PASSWORD));
    if (running === undefined) return OVERLOADED;
    return running.then((matches) => {
      const later = this.#now();
      if (!matches || user === undefined) {
        this.#addressFailures.recordFailure(addressKey, later);
        this.#userFailures.recordFailure(userKey, later);
        return UNAUTHORIZED;
      }
      this.#userFailures.forget(userKey);
      return user.caller;
    });
  }

  #checkBearer(authorization: string, token: string): AuthOutcome {
    const claims = verifyJwt(token, this.#secret, this.#now());
    if (claims === null) return UNAUTHORIZED;
    // ArangoDB treats a token without a user name as a superuser (server-to-server) token.
    const caller = claims.username === undefined ? SUPERUSER : this.#callerNamed(claims.username);
    this.#cache.set(authorization, caller, claims.expiresAtMs);
    return caller;
  }

  // The secret vouches for the name, so a name missing from the users file is still a (non-super) user.
  #callerNamed(username: string): Caller {
    const known = this.#users.get(username)?.caller;
    if (known !== undefined) return known;
    return username === 'root' ? SUPERUSER : Object.freeze({ username, superuser: false });
  }
}
