import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** RFC 6455 §1.3: the server proves it read our key by hashing it with this GUID. */
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OPCODE_CONTINUATION = 0x0;
const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;
const FIN_BIT = 0x80;
const MASK_BIT = 0x80;
const LENGTH_16 = 126;
const LENGTH_64 = 127;
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** RFC 6455 §7.1.5: the code of a close frame that carried none. */
const NO_STATUS_RECEIVED = 1005;

/**
 * A minimal RFC 6455 client over node:net, enough for JSON text messages: Node 20 has no
 * WebSocket without `--experimental-websocket`, and the project has no client dependency.
 * Client frames are masked (§5.3); pings are answered; fragmented messages are reassembled.
 */
export class TestWebSocket {
  readonly #socket: Socket;
  /** Every text message received, parsed as JSON. */
  readonly messages: unknown[] = [];
  readonly #waiters = new Set<() => void>();
  #buffer: Buffer = Buffer.alloc(0);
  #fragments: Buffer[] = [];
  #closed = false;
  /** The server's close frame, once it sent one. */
  closeFrame: { code: number; reason: string } | null = null;
  /** The server's `101 Switching Protocols` head, headers included. */
  readonly responseHead: string;

  private constructor(socket: Socket, rest: Buffer, responseHead: string) {
    this.#socket = socket;
    this.responseHead = responseHead;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('close', () => this.#markClosed());
    socket.on('error', () => this.#markClosed());
    if (rest.length > 0) this.#receive(rest);
  }

  /** Connects and upgrades; rejects with the server's answer when it is not `101 Switching Protocols`. */
  static connect(port: number, path: string, headers: Record<string, string> = {}): Promise<TestWebSocket> {
    return new Promise((resolve, reject) => {
      const key = randomBytes(16).toString('base64');
      const expectedAccept = createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64');
      const socket = connect(port, '127.0.0.1');
      let head = Buffer.alloc(0);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`no WebSocket handshake answer within ${HANDSHAKE_TIMEOUT_MS} ms`)), HANDSHAKE_TIMEOUT_MS);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        socket.off('error', fail);
        clearTimeout(timer);
        const response = head.subarray(0, end).toString('latin1');
        const accept = /\r\nsec-websocket-accept: *(\S+)/i.exec(response)?.[1];
        if (!response.startsWith('HTTP/1.1 101 ') || accept !== expectedAccept) {
          socket.destroy();
          reject(new Error(`WebSocket upgrade refused: ${JSON.stringify(head.toString('utf8'))}`));
          return;
        }
        resolve(new TestWebSocket(socket, head.subarray(end + 4), response));
      };
      socket.on('data', onData);
      socket.on('error', fail);
      socket.on('connect', () => {
        const lines = [
          `GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade',
          `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13',
          ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
        ];
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  sendJson(value: unknown): void {
    this.#sendFrame(OPCODE_TEXT, Buffer.from(JSON.stringify(value), 'utf8'));
  }

  /** Resolves with the messages (so far) once `done` holds for them; rejects on close or after `timeoutMs`. */
  waitFor(what: string, done: (messages: readonly unknown[]) => boolean, timeoutMs = 10_000): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (done(this.messages)) finish(undefined);
        else if (this.#closed) finish(new Error(`the WebSocket closed before ${what}; got ${JSON.stringify(this.messages)}`));
      };
      const finish = (error: Error | undefined): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (error === undefined) resolve(this.messages.slice());
        else reject(error);
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.messages)}`)), timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Resolves with the server's close frame; rejects when the socket ends without one, or after `timeoutMs`. */
  async waitForClose(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    await this.waitFor('the server to close', () => this.#closed, timeoutMs);
    if (this.closeFrame === null) throw new Error(`the WebSocket ended without a close frame; got ${JSON.stringify(this.messages)}`);
    return this.closeFrame;
  }

  /** Sends a close frame (status 1000) and destroys the socket. */
  close(): void {
    if (this.#closed) return;
    const status = Buffer.alloc(2);
    status.writeUInt16BE(1000);
    this.#sendFrame(OPCODE_CLOSE, status);
    this.#socket.destroy();
    this.#markClosed();
  }

  #markClosed(): void {
    this.#closed = true;
    for (const wake of this.#waiters) wake();
  }

  #sendFrame(opcode: number, payload: Buffer): void {
    if (this.#closed) return;
    const lengthBytes = payload.length < LENGTH_16 ? 0 : payload.length <= 0xffff ? 2 : 8;
    const header = Buffer.alloc(2 + lengthBytes + 4);
    header[0] = FIN_BIT | opcode;
    if (lengthBytes === 0) header[1] = MASK_BIT | payload.length;
    else if (lengthBytes === 2) {
      header[1] = MASK_BIT | LENGTH_16;
      header.writeUInt16BE(payload.length, 2);
    } else {
      header[1] = MASK_BIT | LENGTH_64;
      header.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    const mask = randomBytes(4);
    mask.copy(header, 2 + lengthBytes);
    const masked = Buffer.alloc(payload.length);
    for (let index = 0; index < payload.length; index++) masked[index] = payload[index] ^ mask[index & 3];
    this.#socket.write(Buffer.concat([header, masked]));
  }

  #receive(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      if (this.#buffer.length < 2) break;
      const fin = (this.#buffer[0] & FIN_BIT) !== 0;
      const opcode = this.#buffer[0] & 0x0f;
      const masked = (this.#buffer[1] & MASK_BIT) !== 0;
      let length = this.#buffer[1] & 0x7f;
      let offset = 2;
      if (length === LENGTH_16) {
        if (this.#buffer.length < 4) break;
        length = this.#buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === LENGTH_64) {
        if (this.#buffer.length < 10) break;
        length = Number(this.#buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const maskOffset = offset;
      if (masked) offset += 4;
      if (this.#buffer.length < offset + length) break;
      const payload = Buffer.from(this.#buffer.subarray(offset, offset + length));
      if (masked) for (let index = 0; index < length; index++) payload[index] ^= this.#buffer[maskOffset + (index & 3)];
      this.#buffer = this.#buffer.subarray(offset + length);
      this.#frame(fin, opcode, payload);
    }
    for (const wake of this.#waiters) wake();
  }

  #frame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OPCODE_PING:
        return this.#sendFrame(OPCODE_PONG, payload);
      case OPCODE_PONG:
        return;
      case OPCODE_CLOSE:
        this.closeFrame = payload.length >= 2
          ? { code: payload.readUInt16BE(0), reason: payload.subarray(2).toString('utf8') }
          : { code: NO_STATUS_RECEIVED, reason: '' };
        this.#socket.destroy();
        return this.#markClosed();
      case OPCODE_TEXT:
      case OPCODE_BINARY:
      case OPCODE_CONTINUATION:
        this.#fragments.push(payload);
        if (!fin) return;
        this.messages.push(JSON.parse(Buffer.concat(this.#fragments).toString('utf8')));
        this.#fragments = [];
        return;
      default:
        throw new Error(`unexpected WebSocket opcode ${opcode}`);
    }
  }
}
