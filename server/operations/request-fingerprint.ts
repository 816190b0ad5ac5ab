import { createHash } from 'node:crypto';

/** The request an idempotency key stands for: method, path, query and body. */
export function requestFingerprint(method: string, path: string, query: string, body: Uint8Array | null): string {
  const hash = createHash('sha256').update(`${method} ${path}?${query}\n`);
  if (body !== null) hash.update(body);
  return hash.digest('base64url');
}
