import { FINAL_STATUSES, type OperationEvent } from '../client/index.js';
import { socketProtocols, socketUrl, type Session } from './session.js';

type Listener = (event: OperationEvent) => void;

/**
 * One WebSocket (`/_api/operations/ws`) that follows many operations at once, for the jobs
 * list's live progress bars (an SSE stream per row would take the browser's six connections
 * per server). Subscriptions survive a dropped socket: it reconnects (1 s, doubling to 10 s)
 * and subscribes again, and the server starts each subscription with the current state.
 */
export class LiveOperations {
  readonly #session: Session;
  readonly #listeners = new Map<string, Listener>();
  #socket: WebSocket | null = null;
  #closed = false;
  #retryMs = 1000;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(session: Session) {
    this.#session = session;
  }

  /** Calls `listener` with each event of `operationId` until unfollowed (or its final event). */
  follow(operationId: string, listener: Listener): void {
    const known = this.#listeners.has(operationId);
    this.#listeners.set(operationId, listener);
    if (known) return;
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify({ subscribe: [operationId] }));
    else this.#connect();
  }

  unfollow(operationId: string): void {
    if (!this.#listeners.delete(operationId)) return;
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify({ unsubscribe: [operationId] }));
  }

  /** Which operations it follows. */
  get following(): string[] {
    return [...this.#listeners.keys()];
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#listeners.clear();
    this.#socket?.close();
    this.#socket = null;
  }

  #connect(): void {
    if (this.#closed || this.#socket !== null) return;
    const socket = new WebSocket(socketUrl('/_api/operations/ws'), socketProtocols(this.#session));
    this.#socket = socket;
    socket.addEventListener('open', () => {
      this.#retryMs = 1000;
      if (this.#listeners.size > 0) socket.send(JSON.stringify({ subscribe: [...this.#listeners.keys()] }));
    });
    socket.addEventListener('message', (message) => {
      let event: OperationEvent;
      try {
        event = JSON.parse(String(message.data)) as OperationEvent;
      } catch {
        return;
      }
      const listener = this.#listeners.get(event.operationId);
      if (listener === undefined) return;
      if (event.event === 'ERROR' || FINAL_STATUSES.has(event.event)) {
        this.#listeners.delete(event.operationId);
      }
      listener(event);
    });
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      if (this.#closed || this.#listeners.size === 0) return;
      this.#timer = setTimeout(() => this.#connect(), this.#retryMs);
      this.#retryMs = Math.min(this.#retryMs * 2, 10_000);
    });
  }
}
