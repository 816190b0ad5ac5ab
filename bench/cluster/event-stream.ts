/** One server-sent event: its `event:` name and its `data:` parsed as JSON. */
export interface StreamEvent {
  readonly event: string;
  readonly data: { readonly status?: string } & Record<string, unknown>;
}

/** No event arrived in time; the stream is still open. */
export class EventTimeoutError extends Error {
  readonly code = 'ERR_EVENT_TIMEOUT';
  constructor(timeoutMs: number) {
    super(`no event within ${timeoutMs} ms`);
    this.name = 'EventTimeoutError';
  }
}

/**
 * A client of one `text/event-stream` response (WHATWG SSE framing: fields per line, a blank
 * line ends an event, `:` starts a comment), enough for the operation streams: named events
 * with one JSON `data:` line each.
 */
export class EventStream {
  readonly #reader: ReadableStreamDefaultReader<string>;
  readonly #abort: AbortController;
  #buffer = '';
  /** A read of the body still in flight when next() timed out. */
  #read: ReturnType<ReadableStreamDefaultReader<string>['read']> | undefined;

  private constructor(reader: ReadableStreamDefaultReader<string>, abort: AbortController) {
    this.#reader = reader;
    this.#abort = abort;
  }

  /** GETs `url` with `Accept: text/event-stream`; rejects unless the answer is a 200 event stream. */
  static async open(url: string, timeoutMs: number): Promise<EventStream> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`no event stream from ${url} within ${timeoutMs} ms`)), timeoutMs);
    const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
    clearTimeout(timer);
    if (response.status !== 200 || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream') || response.body === null) {
      abort.abort();
      throw new Error(`${url} answered ${response.status} ${response.headers.get('content-type')}, not an event stream`);
    }
    return new EventStream(response.body.pipeThrough(new TextDecoderStream()).getReader(), abort);
  }

  /**
   * The next event, or undefined once the stream ended. Rejects with an EventTimeoutError when
   * none arrives within `timeoutMs`; the stream stays open, and the read in flight serves the next call.
   */
  async next(timeoutMs: number): Promise<StreamEvent | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const end = this.#buffer.indexOf('\n\n');
      if (end >= 0) {
        const frame = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const event = parseFrame(frame);
        if (event !== undefined) return event;
        continue;
      }
      this.#read ??= this.#reader.read();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - performance.now()), 'timeout');
      });
      const outcome = await Promise.race([this.#read, timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') throw new EventTimeoutError(timeoutMs);
      this.#read = undefined;
      if (outcome.done) return undefined;
      this.#buffer += outcome.value;
    }
  }

  close(): void {
    // A read left in flight by a timeout now fails with the abort: that one is expected.
    this.#read?.then(undefined, (error: Error) => {
      if (error.name !== 'AbortError') process.stderr.write(`event stream: ${error.message}\n`);
    });
    this.#abort.abort();
  }
}

/** An event frame, or undefined for a frame of comments only (the stream's greeting, heartbeats). */
function parseFrame(frame: string): StreamEvent | undefined {
  let event = 'message';
  let data: string | undefined;
  for (const line of frame.split('\n')) {
    if (line.startsWith('event: ')) event = line.slice('event: '.length);
    else if (line.startsWith('data: ')) data = line.slice('data: '.length);
  }
  return data === undefined ? undefined : { event, data: JSON.parse(data) as StreamEvent['data'] };
}
