import type { HttpRequest } from 'uWebSockets.js';
import type { Exchange } from './exchange.js';
import { ERRORS } from '../errors/index.js';

/**
 * Reads a request body up to `maxBytes` and calls `onBody` with it (null when the request has
 * none). A body announced larger than the limit is refused with 413 before any of it is read;
 * one that grows past it while streaming (chunked) is refused as soon as it does, so nothing
 * over the limit is ever buffered. Must be called synchronously in the uWS request handler.
 */
export function readBody(
  req: HttpRequest,
  exchange: Exchange,
  maxBytes: number,
  onBody: (body: Uint8Array | null) => void,
): void {
  const lengthHeader = req.getHeader('content-length');
  const chunked = req.getHeader('transfer-encoding') !== '';
  if (lengthHeader === '' && !chunked) {
    onBody(null);
    return;
  }
  const announced = lengthHeader === '' ? -1 : Number(lengthHeader);
  if (lengthHeader !== '' && !(Number.isSafeInteger(announced) && announced >= 0)) {
    exchange.sendErrorAndClose(ERRORS.badParameter, `invalid content-length "${lengthHeader}"`);
    return;
  }
  if (announced > maxBytes) {
    exchange.sendErrorAndClose(ERRORS.bodyTooLarge, `request body of ${announced} bytes exceeds the limit of ${maxBytes} bytes`);
    return;
  }
  if (announced === 0) {
    onBody(null);
    return;
  }
  // With a known length one buffer is filled in place; chunked bodies collect their chunks.
  const whole = announced > 0 ? Buffer.allocUnsafe(announced) : null;
  const chunks: Buffer[] = [];
  let received = 0;
  exchange.res.onData((chunk, isLast) => {
    if (exchange.aborted) return;
    const size = chunk.byteLength;
    if (received + size > maxBytes || (whole !== null && received + size > whole.length)) {
      exchange.sendErrorAndClose(ERRORS.bodyTooLarge, `request body exceeds the limit of ${maxBytes} bytes`);
      return;
    }
    // uWS reuses `chunk` after this callback returns: copy it out now.
    if (whole !== null) whole.set(new Uint8Array(chunk), received);
    else chunks.push(Buffer.from(new Uint8Array(chunk)));
    received += size;
    if (isLast) onBody(whole !== null ? whole.subarray(0, received) : Buffer.concat(chunks, received));
  });
}
