import { createServer, type Server, type ServerResponse } from 'node:http';
import { LoopbackReceiver } from './loopback-receiver.js';

/**
 * A webhook receiver on 127.0.0.1 (port 0) that holds every request unanswered until the test
 * calls `answerAll`: an attempt stays in flight exactly as long as a test needs it to.
 */
export class HoldingReceiver extends LoopbackReceiver<Server> {
  readonly #held: ServerResponse[] = [];
  /** `X-Operation-Id` of every request received, in order. */
  readonly operationIds: string[] = [];

  private constructor() {
    super(createServer());
    this.server.on('request', (request, response) => {
      request.resume();
      request.on('end', () => {
        this.operationIds.push(String(request.headers['x-operation-id']));
        this.#held.push(response);
      });
    });
  }

  static start(): Promise<HoldingReceiver> {
    return new HoldingReceiver().listening();
  }

  /** How many requests carried this operation id. */
  countFor(operationId: string): number {
    return this.operationIds.filter((id) => id === operationId).length;
  }

  /** Answers every held request with `status`. */
  answerAll(status: number): void {
    for (const response of this.#held.splice(0)) response.writeHead(status).end();
  }

  protected dropConnections(): void {
    this.answerAll(503);
    this.server.closeAllConnections();
  }
}
