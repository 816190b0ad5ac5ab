/**
 * The part of autocannon's programmatic API that bench/load uses. autocannon
 * ships no types and @types/autocannon is not a dependency, so this file
 * describes what autocannon 8/9 do (see its README and lib/run.js).
 */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    /** One entry of a connection's request sequence. */
    interface Request<Context extends object = object> {
      method?: string;
      path?: string;
      headers?: Readonly<Record<string, string>>;
      body?: string | Buffer;
      /**
       * Rewrites the request before it is sent. Returning null restarts the
       * sequence at its first entry, with a fresh copy of the initial context.
       */
      setupRequest?: (request: Request<Context>, context: Context) => Request<Context> | null;
      /** Sees each response of this entry; header names keep the server's case. */
      onResponse?: (status: number, body: string, context: Context, headers: Record<string, string | string[]>) => void;
    }

    interface Options<Context extends object = object> {
      url: string;
      connections: number;
      /** Seconds. */
      duration: number;
      /** Seconds before a request counts as timed out. */
      timeout?: number;
      requests?: Request<Context>[];
      initialContext?: Context;
    }

    /** hdr-histogram-percentiles-obj summary; latency values are milliseconds. */
    interface Histogram {
      average: number;
      mean: number;
      stddev: number;
      min: number;
      max: number;
      total: number;
      p50: number;
      p99: number;
    }

    interface Result {
      /** Seconds, rounded to hundredths. */
      duration: number;
      errors: number;
      timeouts: number;
      mismatches: number;
      non2xx: number;
      resets: number;
      statusCodeStats: Record<string, { count: number }>;
      latency: Histogram;
      requests: Histogram & { sent: number };
    }

    interface Instance extends EventEmitter {
      stop(): void;
      /** Every response; `responseTimeMs` is fractional. */
      on(
        event: 'response',
        listener: (client: unknown, statusCode: number, responseBytes: number, responseTimeMs: number) => void,
      ): this;
    }
  }

  function autocannon<Context extends object>(
    options: autocannon.Options<Context>,
    callback: (error: Error | null, result: autocannon.Result) => void,
  ): autocannon.Instance;

  export = autocannon;
}
