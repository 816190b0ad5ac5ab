import { createServer, type Server, type Socket } from 'node:net';
import { LoopbackReceiver } from './loopback-receiver.js';

/**
 * A webhook receiver that accepts TCP connections on 127.0.0.1 (port 0), reads what comes and
 * never answers: the receiver of the hardening issue that kept a socket per delivery open.
 */
export class BlackholeReceiver extends LoopbackReceiver<Server> {
  readonly #sockets = new Set<Socket>();
  /** Connections accepted so far. */
  accepted = 0;
  /** Most connections open at once. */
  peakOpen = 0;

  private constructor() {
    super(createServer());
    this.server.on('connection', (socket: Socket) => {
      this.accepted += 1;
      this.#sockets.add(socket);
      this.peakOpen = Math.max(this.peakOpen, this.#sockets.size);
      socket.resume();
      socket.on('close', () => this.#sockets.delete(socket));
      // The server resets connections when it aborts an attempt or stops; nothing to do about it here.
      socket.on('error', () => this.#sockets.delete(socket));
    });
  }

  static start(): Promise<BlackholeReceiver> {
    return new BlackholeReceiver().listening();
  }

  /** Connections open now. */
  get open(): number {
    return this.#sockets.size;
  }

  protected dropConnections(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}
