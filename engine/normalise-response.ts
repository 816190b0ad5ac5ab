/** A handler's return value turned into status, flat headers and body bytes. */
export type NormalisedResponse =
  | { ok: true; status: number; headers: string[]; body: Uint8Array | null; warnings: unknown }
  | { ok: false; message: string };

const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

export function normaliseResponse(response: unknown): NormalisedResponse {
  if (response === null || typeof response !== 'object') {
    return { ok: false, message: `handler returned ${response === null ? 'null' : typeof response}, expected a response object { status, headers, body }` };
  }
  const { status = 200, headers, body, warnings } = response as { status?: unknown; headers?: unknown; body?: unknown; warnings?: unknown };
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    return { ok: false, message: `handler returned an invalid status ${JSON.stringify(status)}` };
  }
  const flat: string[] = [];
  let hasContentType = false;
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object') return { ok: false, message: 'handler returned headers that are not an object' };
    for (const [name, value] of Object.entries(headers)) {
      const lower = name.toLowerCase();
      if (lower === 'content-type') hasContentType = true;
      flat.push(lower, String(value));
    }
  }
  let bytes: Uint8Array | null;
  let contentType: string | null = null;
  if (body === undefined || body === null) {
    bytes = null;
  } else if (body instanceof Uint8Array) {
    bytes = body;
  } else if (typeof body === 'string') {
    bytes = Buffer.from(body, 'utf8');
    contentType = TEXT_TYPE;
  } else {
    bytes = Buffer.from(JSON.stringify(body), 'utf8');
    contentType = JSON_TYPE;
  }
  if (contentType !== null && !hasContentType) flat.push('content-type', contentType);
  return { ok: true, status, headers: flat, body: bytes, warnings };
}
