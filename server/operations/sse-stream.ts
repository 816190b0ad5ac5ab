import type { HttpResponse } from 'uWebSockets.js';
import type { Exchange } from '../http/index.js';
import { eventName, isFinalEvent, type OperationEvent } from './operation-event.js';
import type { OperationWatcher } from './operation-tracker.js';

const HEARTBEAT_MS = 15_000;

/**
 * One `text/event-stream` response (WHATWG SSE). A slow or vanished client never blocks the
 * server: once uWS reports backpressure, status updates are coalesced into the latest one
 * (at most one update and the final event wait), and they go out when the socket drains.
 */
export class SseStream implements OperationWatcher {
  readonly #res: HttpResponse;
  readonly #onClose: (stream: SseStream) => void;
  #closed = false;
  #blocked = false;
  #pendingUpdate: OperationEvent | null = null;
  #pendingFinal: OperationEvent | null = null;
  #endWhenDrained = false;
  readonly #heartbeat: NodeJS.Timeout;

  /** Call inside the uWS request handler: it takes the exchange over. */
  constructor(exchange: Exchange, onClose: (stream: SseStream) => void) {
    const res = exchange.takeOver(() => this.#close(false));
    this.#res = res;
    this.#onClose = onClose;
    res.onWritable(() => this.#drain());
    res.cork(() => {
      res.writeStatus('200 OK')
        .writeHeader('content-type', 'text/event-stream; charset=utf-8')
        .writeHeader('cache-control', 'no-cache')
        .writeHeader('x-accel-buffering', 'no');
      res.write(': stream of operation events\n\n');
    });
    // A comment line now and then keeps proxies from closing an idle stream.
    this.#heartbeat = setInterval(writeHeartbeat, HEARTBEAT_MS, this).unref();
  }

  get closed(): boolean {
    return this.#closed;
  }

  push(event: OperationEvent): void {
    if (this.#closed) return;
    const final = isFinalEvent(event);
    if (this.#blocked) {
      // Log lines a congested client misses stay readable at /logs; status is what must not lag.
      if (final) this.#pendingFinal = event;
      else if (event.event !== 'log') this.#pendingUpdate = event;
      return;
    }
    this.#send(event);
    if (final) this.#close(true);
  }

  heartbeat(): void {
    if (this.#closed || this.#blocked) return;
    this.#res.cork(() => {
      this.#blocked = !this.#res.write(': keep-alive\n\n');
    });
  }

  #send(event: OperationEvent): void {
    const frame = `id: ${event.id}\nevent: ${event.event}\ndata: ${JSON.stringify(payloadOf(event))}\n\n`;
    this.#res.cork(() => {
      this.#blocked = !this.#res.write(frame);
    });
  }

  /** uWS says the socket drained: send what was held back. */
  #drain(): boolean {
    this.#blocked = false;
    if (this.#endWhenDrained) {
      this.#close(true);
      return true;
    }
    if (this.#pendingUpdate !== null) {
      const update = this.#pendingUpdate;
      this.#pendingUpdate = null;
      this.#send(update);
    } else if (this.#pendingFinal === null) {
      // uWS flushes what it buffered of the last frame only on a write (it leaves draining to
      // whoever set onWritable): without one, that frame's tail waited for the next heartbeat.
      this.#res.cork(() => {
        this.#blocked = !this.#res.write(':\n\n');
      });
    }
    if (!this.#blocked && this.#pendingFinal !== null) {
      const final = this.#pendingFinal;
      this.#pendingFinal = null;
      this.#send(final);
      this.#close(true);
    }
    return !this.#blocked;
  }

  /** Ends the stream: after the final event (`end`), or because the client went away. */
  #close(end: boolean): void {
    if (this.#closed) return;
    if (end && this.#blocked) {
      // The final event is written but still buffered in uWS: end once the socket drained.
      this.#endWhenDrained = true;
      return;
    }
    this.#closed = true;
    clearInterval(this.#heartbeat);
    if (end) this.#res.cork(() => this.#res.end());
    this.#onClose(this);
  }
}

function writeHeartbeat(stream: SseStream): void {
  stream.heartbeat();
}

/** The JSON of an event as every channel sends it (the seed's WebSocket message format). */
export function payloadOf(event: OperationEvent): Record<string, unknown> {
  return {
    event: eventName(event),
    operationId: event.operationId,
    status: event.status,
    progress: event.progress,
    timestamp: event.timestamp,
    data: event.data,
  };
}
