import { createHash } from 'node:crypto';

export type IdempotencyOutcome =
  | { kind: 'new' }
  | { kind: 'replay'; jobId: number }
  | { kind: 'conflict'; jobId: number };

interface KeyRecord {
  jobId: number;
  fingerprint: string;
  expiresAtMs: number;
}

/**
 * `Idempotency-Key` of submits: the same user, key and request within the retention time
 * returns the first operation; the same key with another method, path or body is a conflict
 * (422). Records live as long as operations are retained, in insertion order, so expiring
 * them walks only the expired ones.
 */
export class IdempotencyKeys {
  readonly #records = new Map<string, KeyRecord>();
  readonly #retentionMs: number;

  constructor(retentionMs: number) {
    this.#retentionMs = retentionMs;
  }

  /** Looks the key up; `fingerprint` identifies the request (see `requestFingerprint`). */
  check(owner: string, key: string, fingerprint: string, nowMs: number): IdempotencyOutcome {
    const record = this.#records.get(recordKey(owner, key));
    if (record === undefined || record.expiresAtMs <= nowMs) return { kind: 'new' };
    return record.fingerprint === fingerprint ? { kind: 'replay', jobId: record.jobId } : { kind: 'conflict', jobId: record.jobId };
  }

  remember(owner: string, key: string, fingerprint: string, jobId: number, nowMs: number): void {
    const name = recordKey(owner, key);
    this.#records.delete(name); // re-insert at the end: the map stays in expiry order
    this.#records.set(name, { jobId, fingerprint, expiresAtMs: nowMs + this.#retentionMs });
  }

  /** Drops expired keys; each costs O(1) and the walk stops at the first live one. */
  expire(nowMs: number): void {
    for (const [name, record] of this.#records) {
      if (record.expiresAtMs > nowMs) break;
      this.#records.delete(name);
    }
  }
}

/** The request an idempotency key stands for: method, path, query and body. */
export function requestFingerprint(method: string, path: string, query: string, body: Uint8Array | null): string {
  const hash = createHash('sha256').update(`${method} ${path}?${query}\n`);
  if (body !== null) hash.update(body);
  return hash.digest('base64url');
}

function recordKey(owner: string, key: string): string {
  return `${owner}\n${key}`;
}
