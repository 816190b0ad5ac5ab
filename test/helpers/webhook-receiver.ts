import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { waitFor } from './http.js';
import { LoopbackReceiver } from './loopback-receiver.js';

/** One POST as the receiver got it: the raw body is what a signature is checked against. */
export interface ReceivedWebhook {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** The status the receiver answered. */
  answeredStatus: number;
}

/** An HTTPS receiver's key and certificate (PEM). */
export interface ReceiverTls {
  key: string;
  cert: string;
}

/**
 * A webhook receiver on 127.0.0.1, port 0, over HTTP or (with `tls`) HTTPS. It answers the
 * statuses in `statuses` in turn (500, 500 for a receiver that fails twice), then 200 to everything.
 */
export class WebhookReceiver extends LoopbackReceiver<Server> {
  readonly #answers: number[];
  readonly received: ReceivedWebhook[] = [];

  private constructor(statuses: readonly number[], tls: ReceiverTls | undefined) {
    super(tls === undefined ? createServer() : createHttpsServer(tls), tls === undefined ? 'http' : 'https');
    this.#answers = [...statuses];
    this.server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const answeredStatus = this.#answers.shift() ?? 200;
        this.received.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, rawBody: Buffer.concat(chunks), answeredStatus });
        response.writeHead(answeredStatus, { 'content-type': 'text/plain' }).end(answeredStatus === 200 ? 'ok' : 'try again');
      });
    });
  }

  static start(statuses: readonly number[] = [], tls?: ReceiverTls): Promise<WebhookReceiver> {
    return new WebhookReceiver(statuses, tls).listening();
  }

  waitForDeliveries(count: number, timeoutMs = 10_000): Promise<ReceivedWebhook[]> {
    return waitFor(`${count} webhook deliveries (got ${this.received.length})`, async () => (
      this.received.length >= count ? this.received.slice(0, count) : undefined
    ), timeoutMs);
  }

  /**
   * The first delivery for `operationId` (its X-Operation-Id). Deliveries for earlier tests'
   * operations may still come in: counting deliveries alone would pick those up.
   */
  waitForDeliveryOf(operationId: string, timeoutMs = 10_000): Promise<ReceivedWebhook> {
    return waitFor(`a webhook delivery for operation ${operationId}`, async () => (
      this.received.find((delivery) => delivery.headers['x-operation-id'] === operationId)
    ), timeoutMs);
  }

  protected dropConnections(): void {
    this.server.closeAllConnections();
  }
}
