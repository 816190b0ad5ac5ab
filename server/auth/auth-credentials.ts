import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';

/** What a Basic header carries, once it decoded strictly. */
export interface BasicCredentials {
  username: string;
  password: string;
}

/** What a JWT proves once its signature, issuer and dates check out. */
export interface JwtClaims {
  /** `preferred_username`; undefined for ArangoDB's superuser (server-to-server) tokens. */
  username: string | undefined;
  /** The token's `exp` in ms, or Infinity without one. */
  expiresAtMs: number;
}

export const JWT_ISSUER = 'arangodb';
const JWT_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const HMAC_SHA256_BYTES = 32;
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
// RFC 7617 section 2: user-id and password must not contain control characters.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * Splits `Scheme credentials` (exactly one space) and lowercases the scheme, which is
 * case-insensitive (RFC 9110 section 11.1; ArangoDB clients send "bearer"). Null when malformed.
 */
export function splitAuthorization(authorization: string): { scheme: string; credentials: string } | null {
  const space = authorization.indexOf(' ');
  if (space <= 0) return null;
  return { scheme: authorization.slice(0, space).toLowerCase(), credentials: authorization.slice(space + 1) };
}

/**
 * Decodes Basic credentials strictly: canonical standard base64 (what re-encoding the bytes
 * gives back, so no stray characters, whitespace, missing padding or non-zero trailing bits) of
 * exactly `user:password` in UTF-8. Node's decoder skips junk, so without the check
 * many different headers would decode to the same credentials, each costing a verification
 * and a cache slot.
 */
export function decodeBasicCredentials(credentials: string): BasicCredentials | null {
  if (credentials === '' || !STANDARD_BASE64.test(credentials)) return null;
  const bytes = Buffer.from(credentials, 'base64');
  if (bytes.toString('base64') !== credentials) return null;
  const decoded = bytes.toString('utf8');
  // Invalid UTF-8 would decode to U+FFFD, again many byte strings for one password.
  if (Buffer.byteLength(decoded) !== bytes.length || CONTROL_CHARACTER.test(decoded)) return null;
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  // The user name cannot hold a colon (the users file refuses one); the password may.
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Whether `text` is exactly what base64url encoding (no padding) of some bytes gives. */
function isCanonicalBase64url(text: string): boolean {
  return BASE64URL.test(text) && Buffer.from(text, 'base64url').toString('base64url') === text;
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
 * Checks an HS256 JWT the way ArangoDB does (`iss: "arangodb"`), plus its registered dates:
 * `exp` must lie ahead and `nbf` (not before) must have passed (RFC 7519 section 4.1.5).
 * The signature must be canonical base64url, so one token has one spelling. Null when invalid.
 */
export function verifyJwt(token: string, secret: KeyObject, nowMs: number): JwtClaims | null {
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  if (firstDot <= 0 || secondDot === -1 || token.includes('.', secondDot + 1)) return null;
  const signatureText = token.slice(secondDot + 1);
  if (!isCanonicalBase64url(signatureText)) return null;
  const signature = Buffer.from(signatureText, 'base64url');
  if (signature.length !== HMAC_SHA256_BYTES) return null;
  const expected = createHmac('sha256', secret).update(token.slice(0, secondDot)).digest();
  if (!timingSafeEqual(signature, expected)) return null;

  const header = decodeJsonObject(token.slice(0, firstDot));
  const payload = decodeJsonObject(token.slice(firstDot + 1, secondDot));
  if (header?.alg !== 'HS256' || payload?.iss !== JWT_ISSUER) return null;
  let expiresAtMs = Infinity;
  if (payload.exp !== undefined) {
    if (typeof payload.exp !== 'number' || payload.exp * 1000 <= nowMs) return null;
    expiresAtMs = payload.exp * 1000;
  }
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf * 1000 > nowMs)) return null;
  const username = payload.preferred_username;
  if (username === undefined) return { username: undefined, expiresAtMs };
  if (typeof username !== 'string' || username === '') return null;
  return { username, expiresAtMs };
}

/** An HS256 JWT as ArangoDB's `POST /_open/auth` issues it, valid for `lifetimeSeconds`. */
export function signJwt(username: string, secret: KeyObject, nowMs: number, lifetimeSeconds: number): string {
  const issuedAt = Math.floor(nowMs / 1000);
  const payload = { iss: JWT_ISSUER, preferred_username: username, iat: issuedAt, exp: issuedAt + lifetimeSeconds };
  const signedPart = `${JWT_HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${signedPart}.${createHmac('sha256', secret).update(signedPart).digest('base64url')}`;
}
