import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpResponse } from 'uWebSockets.js';
import { Exchange } from './exchange.js';

/**
 * A uWS response over a socket that takes `room` bytes and then pushes back, as uWS v20.30
 * behaves: `tryEnd` writes what fits and reports [all of this chunk taken, whole body done];
 * `onWritable` gets the body offset reached; any use after the end or an abort throws, as the
 * real binding does for a discarded response.
 */
class CongestedResponse {
  room: number;
  readonly taken: Buffer[] = [];
  ended: 'end' | 'tryEnd' | null = null;
  #offset = 0;
  #total = 0;
  #gone = false;
  #onWritable: ((offset: number) => boolean) | null = null;
  #onAborted: (() => void) | null = null;

  constructor(room: number) {
    this.room = room;
  }

  get body(): Buffer {
    return Buffer.concat(this.taken);
  }

  cork(callback: () => void): this {
    callback();
    return this;
  }

  writeStatus(): this {
    return this.#usable();
  }

  writeHeader(): this {
    return this.#usable();
  }

  end(body: string | Uint8Array): this {
    this.#usable().taken.push(Buffer.from(body as string));
    this.ended = 'end';
    this.#gone = true;
    return this;
  }

  tryEnd(chunk: string | Uint8Array, totalSize: number): [boolean, boolean] {
    const bytes = Buffer.from(chunk as string);
    if (this.#usable().#total === 0) this.#total = totalSize === 0 ? bytes.byteLength : totalSize;
    const fits = bytes.subarray(0, Math.min(bytes.byteLength, this.room));
    this.room -= fits.byteLength;
    this.taken.push(Buffer.from(fits));
    this.#offset += fits.byteLength;
    const done = this.#offset === this.#total;
    if (done) {
      this.ended = 'tryEnd';
      this.#gone = true;
    }
    return [fits.byteLength === bytes.byteLength, done];
  }

  onWritable(handler: (offset: number) => boolean): this {
    this.#onWritable = handler;
    return this;
  }

  onAborted(handler: () => void): this {
    this.#onAborted = handler;
    return this;
  }

  /** The kernel takes `bytes` more; uWS calls the writable handler if the answer is pending. */
  drain(bytes: number): void {
    this.room += bytes;
    if (!this.#gone && this.#onWritable !== null) this.#onWritable(this.#offset);
  }

  hangUp(): void {
    this.#gone = true;
    this.#onAborted?.();
  }

  #usable(): this {
    if (this.#gone) throw new Error('Invalid access of discarded or aborted uWS.HttpResponse!');
    return this;
  }
}

function exchangeOver(res: CongestedResponse): Exchange {
  return new Exchange(res as unknown as HttpResponse, false);
}

test('a body the socket cannot take at once goes out whole, as the socket drains', () => {
  const body = new Uint8Array(300_000).map((_, index) => (index * 7) & 0xff);
  const res = new CongestedResponse(100_000);
  exchangeOver(res).send(200, [], body);
  for (let round = 0; round < 10 && res.ended === null; round++) res.drain(64 * 1024);
  assert.equal(res.ended, 'tryEnd');
  assert.ok(res.body.equals(body), 'every byte, in order');
});

test('a string body resumes at the byte where it stopped, inside a multi-byte character too', () => {
  const text = 'é€😀 '.repeat(100);
  const res = new CongestedResponse(7);
  exchangeOver(res).send(200, [], text);
  for (let round = 0; round < 1000 && res.ended === null; round++) res.drain(5);
  assert.equal(res.ended, 'tryEnd');
  assert.equal(res.body.toString('utf8'), text);
});

test('a client hanging up mid-body stops the writes, and whoever waited for the answer is not told', () => {
  const res = new CongestedResponse(1000);
  const exchange = exchangeOver(res);
  let told = false;
  exchange.onAbort = () => { told = true; };
  exchange.send(200, [], new Uint8Array(10_000));
  res.hangUp();
  res.drain(64 * 1024);
  assert.equal(told, false);
  assert.equal(res.body.byteLength, 1000);
});

test('a small body is ended at once, and an answer sent twice is written once', () => {
  const res = new CongestedResponse(0);
  const exchange = exchangeOver(res);
  exchange.send(200, [], '{"server":"arango"}');
  exchange.send(500, [], 'again');
  assert.equal(res.ended, 'end');
  assert.equal(res.body.toString(), '{"server":"arango"}');
});
