
/** What a live key names: the job it was first used for and the fingerprint of that request. */
export interface IdempotentJob {
  jobId: number;
  fingerprint: string;
}

interface KeyRecord {
  jobId: number;
  fingerprint: string;
  expiresAtMs: number;
}

/**
 * `Idempotency-Key`s of submits, per owner: the same owner, key and request before the key's
 * `expiresAtMs` replays the first job; the caller compares fingerprints to tell a replay from a
 * conflict (422). A key lives until its own time, whether or not its job is still stored: a
 * replay after the job was fetched learns it is gone instead of running the request twice.
 *
 * Records are kept in insertion order, so expiring them walks only the expired ones. The
 * server gives every key the same retention, which makes insertion order expiry order; a key
 * given a longer time ahead of shorter ones only holds them in memory longer, as `find`
 * checks the time itself.
 */
export class IdempotencyKeys {
  readonly #records = new Map<string, KeyRecord>();

  get size(): number {
    return this.#records.size;
  }

  /** The job a key names while it lives (`nowMs` before its `expiresAtMs`); undefined otherwise. */
  find(owner: string, key: string, nowMs: number): IdempotentJob | undefined {
    const record = this.#records.get(idempotencyRecordKey(owner, key));
    if (record === undefined || record.expiresAtMs <= nowMs) return undefined;
    return { jobId: record.jobId, fingerprint: record.fingerprint };
  }

  /** Records or replaces the key; `name` is `idempotencyRecordKey(owner, key)`. */
  remember(name: string, jobId: number, fingerprint: string, expiresAtMs: number): void {
    this.#records.delete(name); // re-insert at the end: the map stays in expiry order
    this.#records.set(name, { jobId, fingerprint, expiresAtMs });
  }

  /** Drops keys past their time, telling `onDropped` each name; each costs O(1) and the walk stops at the first live one. */
  expire(nowMs: number, onDropped?: (name: string) => void): void {
    for (const [name, record] of this.#records) {
      if (record.expiresAtMs > nowMs) break;
      this.#records.delete(name);
      onDropped?.(name);
    }
  }
}


/** One name per owner and key: a header value holds no newline, so the last one splits the name unambiguously. */
export function idempotencyRecordKey(owner: string, key: string): string {
  return `${owner}\n${key}`;
}
