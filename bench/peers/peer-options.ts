import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';

/** Command-line options shared by the peer servers. */
export interface PeerOptions {
  /** TCP port to listen on, on 127.0.0.1. */
  readonly port: number;
  /** Worker threads, for peers that have any. @defaultValue os.availableParallelism() */
  readonly threads: number;
  /**
   * How fastify-piscina cancels a stored job: `signal` gives piscina.run an
   * AbortSignal, `port` posts to a MessagePort handed to the task (see
   * fastify-piscina.ts for the trade-off). @defaultValue 'signal'
   */
  readonly cancel: PeerCancelMode;
}

export type PeerCancelMode = 'port' | 'signal';

/** Parses `--port N [--threads N] [--cancel signal|port]`; throws a TypeError on anything else so a typo never runs a wrong benchmark. */
export function parsePeerOptions(argv: readonly string[]): PeerOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: { port: { type: 'string' }, threads: { type: 'string' }, cancel: { type: 'string', default: 'signal' } },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`--port must be a TCP port, got ${String(values.port)}`);
  }
  const threads = values.threads === undefined ? availableParallelism() : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new TypeError(`--threads must be a positive integer, got ${String(values.threads)}`);
  }
  const cancel = values.cancel;
  if (cancel !== 'port' && cancel !== 'signal') throw new TypeError(`--cancel must be port or signal, got ${cancel}`);
  return { port, threads, cancel };
}
