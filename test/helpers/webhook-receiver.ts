import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './http.js';

/** One POST as the receiver got it: the raw body is what a signature is checked against. */
export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** The status the receiver answered. */
  answeredStatus: number;
}

/**
 * A webhook receiver on 127.0.0.1, port 0. It answers the statuses in `statuses` in turn
 * (500, 500 for a receiver that fails twice), then 200 to everything.
 */
export class WebhookReceiver {
  readonly #server: Server;
  readonly #answers: number[];
  readonly received: ReceivedWebhook[] = [];

  private constructor(statuses: readonly number[]) {
    this.#answers = [...statuses];
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const answeredStatus = this.#answers.shift() ?? 200;
        this.received.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, rawBody: Buffer.concat(chunks), answeredStatus });
        response.writeHead(answeredStatus, { 'content-type': 'text/plain' }).end(answeredStatus === 200 ? 'ok' : 'try again');
      });
    });
  }

  static async start(statuses: readonly number[] = []): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(statuses);
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

  waitForDeliveries(count: number, timeoutMs = 10_000): Promise<ReceivedWebhook[]> {
    return waitFor(`${count} webhook deliveries (got ${this.received.length})`, async () => (
      this.received.length >= count ? this.received.slice(0, count) : undefined
    ), timeoutMs);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }
}
