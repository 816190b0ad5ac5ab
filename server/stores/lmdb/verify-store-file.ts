import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { StoreCorruptError } from './store-errors.js';

const CHILD_SCRIPT = fileURLToPath(new URL('./verify-store-child.js', import.meta.url));

/**
 * Reads the whole store in a child process before this one maps it (see verify-store-child.ts):
 * resolves when the child read it all, rejects with StoreCorruptError naming `dataPath` when
 * LMDB refused it or crashed on it.
 */
export function verifyStoreFile(directory: string, dataPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CHILD_SCRIPT, directory], (error, _stdout, stderr) => {
      if (error === null) resolve();
      else if (error.signal) reject(new StoreCorruptError(dataPath, `reading it crashed LMDB with ${error.signal}`, { cause: error }));
      else reject(new StoreCorruptError(dataPath, stderr.trim().split('\n').at(-1) || `exit code ${error.code}`, { cause: error }));
    });
  });
}
