import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the receiver saw it, body as raw UTF-8. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  requests: ReceivedRequest[];
  /** TCP connections accepted, so a test can show that none was made. */
  connectionCount: number;
  close(): Promise<void>;
}

/** Answers the request number `index` (0-based); ending `response` is its job. */
export type ReceiverHandler = (index: number, request: ReceivedRequest, response: ServerResponse) => void;

/** A webhook receiver on 127.0.0.1, port 0. */
export async function startReceiver(handler: ReceiverHandler): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const received = {
        method: incoming.method ?? '', url: incoming.url ?? '', headers: incoming.headers, body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(received);
      handler(requests.length - 1, received, response);
    });
  });
  const receiver: Receiver = {
    origin: '',
    requests,
    connectionCount: 0,
    close: () => new Promise<void>((resolve, reject) => {
      // Hanging requests (the timeout test) would keep close() waiting forever.
      server.closeAllConnections();
      server.close((error) => (error === undefined ? resolve() : reject(error)));
    }),
  };
  server.on('connection', () => { receiver.connectionCount += 1; });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}
