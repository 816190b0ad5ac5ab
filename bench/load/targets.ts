import { fileURLToPath } from 'node:url';
import type { ServerCommand } from './server-process.js';

/** The programs the benchmark compares: this project's server and its two peers. */
export type LoadTargetName = 'server' | 'uws-inline' | 'fastify-piscina';

export const LOAD_TARGET_NAMES: readonly LoadTargetName[] = ['server', 'uws-inline', 'fastify-piscina'];

export function isLoadTargetName(name: string): name is LoadTargetName {
  return (LOAD_TARGET_NAMES as readonly string[]).includes(name);
}

/** Compiled entry points, relative to this file's place in dist/bench/load/. */
function distScript(relativePath: string): string {
  return fileURLToPath(new URL(relativePath, import.meta.url));
}

/**
 * How to start a target with `threads` worker threads (uws-inline has none
 * and ignores it). Each runs in its own Node process, so its CPU can be
 * measured apart from the load generator's. `serverArgs` are added to this
 * project's server only (the peers have no such options).
 */
export function loadTargetCommand(name: LoadTargetName, threads: number, serverArgs: readonly string[] = []): ServerCommand {
  const node = process.execPath;
  switch (name) {
    case 'server': {
      const script = distScript('../../server/main.js');
      return {
        name,
        command: node,
        args: (port) => [script, '--server.endpoint', `tcp://127.0.0.1:${port}`, '--server.threads', String(threads), ...serverArgs],
      };
    }
    case 'uws-inline': {
      const script = distScript('../peers/uws-inline.js');
      return { name, command: node, args: (port) => [script, '--port', String(port)] };
    }
    case 'fastify-piscina': {
      const script = distScript('../peers/fastify-piscina.js');
      return { name, command: node, args: (port) => [script, '--port', String(port), '--threads', String(threads)] };
    }
  }
}
