import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver that accepts TCP connections on 127.0.0.1 (port 0), reads what comes and
 * never answers: the receiver of the hardening issue that kept a socket per delivery open.
 */
export class BlackholeReceiver {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /** Connections accepted so far. */
  accepted = 0;
  /** Most connections open at once. */
  peakOpen = 0;

  private constructor() {
    this.#server = createServer((socket) => {
      this.accepted += 1;
      this.#sockets.add(socket);
      this.peakOpen = Math.max(this.peakOpen, this.#sockets.size);
      socket.resume();
      socket.on('close', () => this.#sockets.delete(socket));
      // The server resets connections when it aborts an attempt or stops; nothing to do about it here.
      socket.on('error', () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<BlackholeReceiver> {
    const receiver = new BlackholeReceiver();
    receiver.#server.listen(0, '127.0.0.1');
    await once(receiver.#server, 'listening');
    return receiver;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Connections open now. */
  get open(): number {
    return this.#sockets.size;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#server.close();
    await once(this.#server, 'close');
  }
}
