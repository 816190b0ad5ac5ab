import { createHash } from 'node:crypto';

/**
 * Counts failed password checks per key (a client address or a user name) and blocks a key
 * that fails too often, fail2ban style: `maxFailures` failures within `windowMs` block it for
 * `firstBlockMs`, and every further block of the same key doubles, up to `maxBlockMs`, until the
 * key has been quiet for `forgetAfterMs`. At most `capacity` keys are remembered; the one that
 * failed least recently is forgotten first, so an attacker who rotates user names or addresses
 * cannot grow memory, only push out its own older entries (and, at worst, others' stale ones).
 */
export interface FailureThrottleOptions {
  /** Failures within a window that block the key; 0 turns the throttle off. */
  maxFailures: number;
  windowMs: number;
  firstBlockMs: number;
  maxBlockMs: number;
  forgetAfterMs: number;
  capacity: number;
}

interface ThrottleEntry {
  failures: number;
  windowStartMs: number;
  blockedUntilMs: number;
  /** How many times the key was blocked since it was last forgotten: the backoff's exponent. */
  blocks: number;
  lastFailureMs: number;
}

export class FailureThrottle {
  readonly #options: FailureThrottleOptions;
  // Map order is insertion order; a failure re-inserts its key, so the first key failed least recently.
  readonly #entries = new Map<string, ThrottleEntry>();

  constructor(options: FailureThrottleOptions) {
    this.#options = options;
  }

  /** Remembered keys (for tests and metrics). */
  get size(): number {
    return this.#entries.size;
  }

  /** How long `key` must still wait, in ms; 0 when it may try. */
  blockedForMs(key: string, nowMs: number): number {
    if (this.#options.maxFailures === 0) return 0;
    const entry = this.#entries.get(key);
    return entry === undefined || entry.blockedUntilMs <= nowMs ? 0 : entry.blockedUntilMs - nowMs;
  }

  recordFailure(key: string, nowMs: number): void {
    const options = this.#options;
    if (options.maxFailures === 0) return;
    let entry = this.#entries.get(key);
    if (entry !== undefined) {
      this.#entries.delete(key);
      if (nowMs - entry.lastFailureMs > options.forgetAfterMs) entry = undefined;
    }
    if (entry === undefined) {
      if (this.#entries.size >= options.capacity) this.#entries.delete(this.#entries.keys().next().value!);
      entry = { failures: 0, windowStartMs: nowMs, blockedUntilMs: 0, blocks: 0, lastFailureMs: nowMs };
    }
    this.#entries.set(key, entry);
    if (nowMs - entry.windowStartMs >= options.windowMs) {
      entry.failures = 0;
      entry.windowStartMs = nowMs;
    }
    entry.failures++;
    entry.lastFailureMs = nowMs;
    if (entry.failures >= options.maxFailures) {
      entry.blockedUntilMs = nowMs + Math.min(options.firstBlockMs * 2 ** entry.blocks, options.maxBlockMs);
      entry.blocks++;
      entry.failures = 0;
      entry.windowStartMs = nowMs;
    }
  }

  /** Forgets `key`, as after a successful login of that user. */
  forget(key: string): void {
    this.#entries.delete(key);
  }
}

const IPV4_MAPPED_PREFIX = '::ffff:';

/**
 * The throttle key of a peer address: an IPv4 address as is (also when IPv4-mapped), an IPv6
 * address by its /64 prefix. One IPv6 subscriber usually holds a whole /64, so keying by full
 * address would hand an attacker 2^64 fresh keys.
 */
export function addressThrottleKey(address: string): string {
  const lower = address.toLowerCase();
  if (lower.startsWith(IPV4_MAPPED_PREFIX) && lower.includes('.')) return lower.slice(IPV4_MAPPED_PREFIX.length);
  if (!lower.includes(':')) return lower;
  const gap = lower.indexOf('::');
  let hextets: string[];
  if (gap === -1) {
    hextets = lower.split(':');
  } else {
    const head = hextetsOf(lower.slice(0, gap));
    const tail = hextetsOf(lower.slice(gap + 2));
    hextets = [...head, ...Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail];
  }
  return `${hextets.slice(0, 4).map((hextet) => hextet.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

function hextetsOf(text: string): string[] {
  return text === '' ? [] : text.split(':');
}

// Longer names are hashed: a login body may carry a 64 KiB "user name", and 10,000 of those
// as keys would be 640 MiB.
const MAX_PLAIN_USER_KEY_LENGTH = 128;

/** The throttle key of a user name: the name itself, or a digest of a very long one. */
export function userThrottleKey(username: string): string {
  if (username.length <= MAX_PLAIN_USER_KEY_LENGTH) return username;
  return `sha256:${createHash('sha256').update(username).digest('base64')}`;
}
