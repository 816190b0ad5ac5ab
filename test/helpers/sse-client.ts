import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from 'node:http';

/** One WHATWG server-sent event as a client dispatches it. */
export interface SseEvent {
  id: string;
  event: string;
  /** The `data:` lines joined with newlines. */
  data: string;
}

/** How a stream stopped: the server ended it, the test closed it, or it ran past its deadline. */
export type SseOutcome = 'end' | 'closed' | 'timeout' | `error: ${string}`;

const DEFAULT_DEADLINE_MS = 20_000;

/**
 * A `text/event-stream` response read as it arrives (fetch would do, but node:http lets a test
 * hang up mid-stream by destroying the socket, as a vanished browser does). A non-200 answer's
 * body ends up in `text`, once `finished` settled.
 */
export class SseClient {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly events: SseEvent[] = [];
  /** The raw text received, comments included. */
  text = '';
  /** Settles (never rejects) when the stream stops, with how it stopped. */
  readonly finished: Promise<SseOutcome>;
  readonly #request: ClientRequest;
  readonly #waiters = new Set<() => void>();
  #outcome: SseOutcome | undefined;
  #pending = '';
  #event: SseEvent = { id: '', event: '', data: '' };
  #dataLines: string[] = [];

  private constructor(request: ClientRequest, status: number, headers: IncomingHttpHeaders, finished: Promise<SseOutcome>) {
    this.#request = request;
    this.status = status;
    this.headers = headers;
    this.finished = finished;
  }

  /**
   * Opens `GET path` with `Accept: text/event-stream` on its own connection; resolves once the
   * response head arrived. The stream is destroyed after `deadlineMs` so no test can hang on it.
   */
  static open(baseUrl: string, path: string, headers: Record<string, string> = {}, deadlineMs = DEFAULT_DEADLINE_MS): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      let settle: (outcome: SseOutcome) => void = () => undefined;
      const finished = new Promise<SseOutcome>((resolveFinished) => { settle = resolveFinished; });
      let client: SseClient | undefined;
      const request = httpRequest(`${baseUrl}${path}`, { headers: { accept: 'text/event-stream', ...headers }, agent: false });
      const deadline = setTimeout(() => {
        client?.stop('timeout');
        request.destroy();
        if (client === undefined) reject(new Error(`no response head for ${path} within ${deadlineMs} ms`));
      }, deadlineMs);
      request.on('error', (error) => {
        clearTimeout(deadline);
        if (client === undefined) reject(error);
        else client.stop(`error: ${error.message}`);
      });
      request.on('response', (response) => {
        client = new SseClient(request, response.statusCode ?? 0, response.headers, finished);
        const opened = client;
        opened.#onStop = (outcome) => {
          clearTimeout(deadline);
          settle(outcome);
        };
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => opened.#receive(chunk));
        response.on('end', () => opened.stop('end'));
        response.on('aborted', () => opened.stop('error: aborted'));
        response.on('error', (error) => opened.stop(`error: ${error.message}`));
        resolve(opened);
      });
      request.end();
    });
  }

  #onStop: (outcome: SseOutcome) => void = () => undefined;

  /** Hangs up: destroys the socket as a closed browser tab would. */
  close(): void {
    this.stop('closed');
    this.#request.destroy();
  }

  /** Records how the stream stopped (the first reason wins) and wakes every waiter. */
  stop(outcome: SseOutcome): void {
    if (this.#outcome !== undefined) return;
    this.#outcome = outcome;
    this.#onStop(outcome);
    for (const wake of this.#waiters) wake();
  }

  get outcome(): SseOutcome | undefined {
    return this.#outcome;
  }

  /** Resolves once `count` events arrived; rejects if the stream stops first or after `timeoutMs`. */
  waitForEvents(count: number, timeoutMs = 10_000): Promise<SseEvent[]> {
    return this.#waitUntil(() => this.events.length >= count, `${count} events`, timeoutMs).then(() => this.events.slice(0, count));
  }

  /** Resolves with the first event of type `event`; rejects if the stream stops first or after `timeoutMs`. */
  async waitForEvent(event: string, timeoutMs = 10_000): Promise<SseEvent> {
    await this.#waitUntil(() => this.events.some((each) => each.event === event), `a "${event}" event`, timeoutMs);
    return this.events.find((each) => each.event === event)!;
  }

  #waitUntil(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (done()) finish(undefined);
        else if (this.#outcome !== undefined) finish(new Error(`the stream stopped (${this.#outcome}) before ${what}; got ${JSON.stringify(this.events)}`));
      };
      const finish = (error: Error | undefined): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (error === undefined) resolve();
        else reject(error);
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.events)}`)), timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** The WHATWG parsing rules, minus retry: fields per line, a blank line dispatches. */
  #receive(chunk: string): void {
    this.text += chunk;
    this.#pending += chunk;
    let newline: number;
    while ((newline = this.#pending.search(/\r\n|\r|\n/)) !== -1) {
      const line = this.#pending.slice(0, newline);
      this.#pending = this.#pending.slice(newline + (this.#pending.startsWith('\r\n', newline) ? 2 : 1));
      this.#line(line);
    }
    for (const wake of this.#waiters) wake();
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#dataLines.length > 0) this.events.push({ ...this.#event, data: this.#dataLines.join('\n') });
      this.#event = { id: this.#event.id, event: '', data: '' };
      this.#dataLines = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'id') this.#event.id = value;
    else if (field === 'event') this.#event.event = value;
    else if (field === 'data') this.#dataLines.push(value);
  }
}
