import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A webhook receiver on 127.0.0.1 (port 0) that holds every request unanswered until the test
 * calls `answerAll`: an attempt stays in flight exactly as long as a test needs it to.
 */
export class HoldingReceiver {
  readonly #server: Server;
  readonly #held: ServerResponse[] = [];
  /** `X-Operation-Id` of every request received, in order. */
  readonly operationIds: string[] = [];

  private constructor() {
    this.#server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        this.operationIds.push(String(request.headers['x-operation-id']));
        this.#held.push(response);
      });
    });
  }

  static async start(): Promise<HoldingReceiver> {
    const receiver = new HoldingReceiver();
    receiver.#server.listen(0, '127.0.0.1');
    await once(receiver.#server, 'listening');
    return receiver;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** How many requests carried this operation id. */
  countFor(operationId: string): number {
    return this.operationIds.filter((id) => id === operationId).length;
  }

  /** Answers every held request with `status`. */
  answerAll(status: number): void {
    for (const response of this.#held.splice(0)) response.writeHead(status).end();
  }

  async close(): Promise<void> {
    this.answerAll(503);
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}
