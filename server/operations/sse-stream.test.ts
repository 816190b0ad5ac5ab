import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpResponse } from 'uWebSockets.js';
import { Exchange } from '../http/index.js';
import type { OperationEvent } from './operation-event.js';
import { SseStream } from './sse-stream.js';

/**
 * A uWS response over a congested socket. As in uWS v20.30, a write that does not fit is kept
 * in uWS's own buffer and reported as false, and that buffer goes out only with the next write:
 * uWS leaves draining to whoever registered `onWritable` (HttpContext.h, on_writable).
 */
class CongestedResponse {
  congested = false;
  /** What the client has received. */
  delivered = '';
  #buffered = '';
  #onWritable: ((offset: number) => boolean) | null = null;

  cork(callback: () => void): this {
    callback();
    return this;
  }

  writeStatus(): this {
    return this;
  }

  writeHeader(): this {
    return this;
  }

  onAborted(): this {
    return this;
  }

  onWritable(handler: (offset: number) => boolean): this {
    this.#onWritable = handler;
    return this;
  }

  write(chunk: string): boolean {
    this.#buffered += chunk;
    if (this.congested) return false;
    this.delivered += this.#buffered;
    this.#buffered = '';
    return true;
  }

  end(): this {
    this.write('');
    return this;
  }

  /** The client reads again: uWS calls the writable handler. */
  drain(): void {
    this.congested = false;
    this.#onWritable!(0);
  }
}

function statusUpdate(id: number): OperationEvent {
  return { id, event: 'status-update', operationId: '7', status: 'PROCESSING', progress: null, timestamp: '2026-01-01T00:00:00.000Z', data: {} };
}

test('an event held up by a congested socket reaches the client once it drains, with nothing newer to send', () => {
  const res = new CongestedResponse();
  const stream = new SseStream(new Exchange(res as unknown as HttpResponse, false), () => undefined);
  res.congested = true;
  stream.push(statusUpdate(41));
  res.drain();
  assert.match(res.delivered, /id: 41\nevent: status-update\n/);
  stream.push({ ...statusUpdate(42), event: 'completed', status: 'COMPLETED' });
  assert.match(res.delivered, /id: 42\nevent: completed\n/);
});
