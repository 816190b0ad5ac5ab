import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { StoreLockedError } from './store-errors.js';

const PID_FILE = 'lock.pid';

/**
 * One process per store directory. LMDB itself lets several processes write one environment,
 * and two servers doing so would each hold a stale in-memory index. The lock is a Linux
 * abstract unix socket named after the directory's device and inode (so a symlink or bind
 * mount of the same directory is the same lock): binding it fails with EADDRINUSE while
 * another process holds it, and the kernel releases it when that process ends in any way,
 * kill -9 included (measured: a second bind succeeds at once after a SIGKILL), so no stale
 * lock file ever needs clearing. `lock.pid` only names the holder in the refusal.
 */
export class StoreLock {
  readonly #server: Server;
  readonly #pidPath: string;

  private constructor(server: Server, pidPath: string) {
    this.#server = server;
    this.#pidPath = pidPath;
  }

  /** Takes the lock of an existing directory, or rejects with StoreLockedError. */
  static acquire(directory: string): Promise<StoreLock> {
    const { dev, ino } = statSync(directory);
    const pidPath = join(directory, PID_FILE);
    const server = createServer();
    return new Promise((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EADDRINUSE') reject(error);
        else reject(new StoreLockedError(directory, holderPid(pidPath), { cause: error }));
      });
      server.listen(`\0arango-async-jobs/store/${dev}/${ino}`, () => {
        // The socket is only held, never served: it must not keep the process alive.
        server.unref();
        writeFileSync(pidPath, `${process.pid}\n`);
        resolve(new StoreLock(server, pidPath));
      });
    });
  }

  release(): void {
    rmSync(this.#pidPath, { force: true });
    this.#server.close();
  }
}

function holderPid(pidPath: string): number | null {
  let text: string;
  try {
    text = readFileSync(pidPath, 'utf8');
  } catch (error) {
    // The holder has not written it yet (or an operator removed it): refuse without a pid.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const pid = Number.parseInt(text, 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}
