import type { Caller } from './caller.js';

interface CacheEntry {
  caller: Caller;
  /** Infinity for Basic credentials, the token's `exp` for a JWT. */
  expiresAtMs: number;
}

/**
 * Verified `Authorization` headers, by their exact text, so that a repeated request costs one
 * Map lookup. At most `capacity` headers in all and `perUserCapacity` per user name: a user
 * who cycles through many tokens (or spellings of a header) pushes out only their own older
 * entries, never other users'. Map order is insertion order, so the first key is the oldest.
 */
export class CredentialCache {
  readonly #capacity: number;
  readonly #perUserCapacity: number;
  readonly #entries = new Map<string, CacheEntry>();
  /** Each user's cached headers, oldest first. Short arrays: at most `perUserCapacity`. */
  readonly #headersByUser = new Map<string, string[]>();

  constructor(capacity: number, perUserCapacity: number) {
    this.#capacity = capacity;
    this.#perUserCapacity = perUserCapacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The caller a cached header names; undefined when absent or expired (an expired one is dropped). */
  get(authorization: string, nowMs: number): Caller | undefined {
    const cached = this.#entries.get(authorization);
    if (cached === undefined) return undefined;
    if (cached.expiresAtMs > nowMs) return cached.caller;
    this.#delete(authorization);
    return undefined;
  }

  set(authorization: string, caller: Caller, expiresAtMs: number): void {
    if (this.#entries.has(authorization)) return;
    let headers = this.#headersByUser.get(caller.username);
    if (headers === undefined) {
      headers = [];
      this.#headersByUser.set(caller.username, headers);
    }
    if (headers.length >= this.#perUserCapacity) this.#delete(headers[0]);
    else if (this.#entries.size >= this.#capacity) this.#delete(this.#entries.keys().next().value!);
    this.#entries.set(authorization, { caller, expiresAtMs });
    headers.push(authorization);
    // #delete may have removed the user's (then empty) list; put it back.
    this.#headersByUser.set(caller.username, headers);
  }

  #delete(authorization: string): void {
    const entry = this.#entries.get(authorization);
    if (entry === undefined) return;
    this.#entries.delete(authorization);
    const username = entry.caller.username;
    const headers = this.#headersByUser.get(username)!;
    headers.splice(headers.indexOf(authorization), 1);
    if (headers.length === 0) this.#headersByUser.delete(username);
  }
}
