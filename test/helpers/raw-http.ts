import { connect } from 'node:net';

export interface RawExchange {
  /** Everything the server sent. */
  response: string;
  /** Whether the server closed the connection within the wait. */
  closed: boolean;
}

/**
 * Writes `payload` as-is on a fresh TCP connection and collects what comes back until the
 * server closes the connection, a complete answer has arrived, or `waitMs` passes.
 */
export function rawExchange(port: number, payload: string, waitMs = 3000): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    let response = '';
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ response, closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      response += chunk;
      if (isComplete(response)) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the server answered and closed is still a close.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish(true);
      else if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(error);
      }
    });
  });
}

/** A response with headers and a body of its announced length. */
function isComplete(response: string): boolean {
  const headerEnd = response.indexOf('\r\n\r\n');
  if (headerEnd === -1) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(response.slice(0, headerEnd));
  return length !== null && response.length - headerEnd - 4 >= Number(length[1]);
}

/** The status code of a raw HTTP/1.x response, or undefined when nothing parseable came back. */
export function rawStatus(exchange: RawExchange): number | undefined {
  const match = /^HTTP\/1\.[01] (\d{3}) /.exec(exchange.response);
  return match === null ? undefined : Number(match[1]);
}

/** The body of a raw response (after the blank line). */
export function rawBody(exchange: RawExchange): string {
  const headerEnd = exchange.response.indexOf('\r\n\r\n');
  return headerEnd === -1 ? '' : exchange.response.slice(headerEnd + 4);
}

/** Describes a raw exchange for an assertion message. */
export function describeRaw(exchange: RawExchange): string {
  if (exchange.response === '') return exchange.closed ? 'the connection was closed without any response' : 'no response at all (the connection stayed open)';
  return JSON.stringify(exchange.response.slice(0, 300));
}
