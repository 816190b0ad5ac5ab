import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { StoreCorruptError } from './store-errors.js';

const CHILD_SCRIPT = fileURLToPath(new URL('./verify-store-child.js', import.meta.url));
const HEADER_BYTES = 13;

/**
 * Reads the whole store in a child process before this one maps it (see verify-store-child.ts),
 * handing `onRecord` each record the child streams (owners, gone, jobs) as it arrives: resolves
 * when the child read everything, rejects with StoreCorruptError naming `dataPath` when LMDB
 * refused the file or crashed on it, or the stream was cut short.
 */
export async function verifyStoreFile(directory: string, dataPath: string, onRecord: (kind: number, key: number, value: Uint8Array) => void): Promise<void> {
  // Both halves at once: the walk of the results (a million keys) does not hold up the index.
  const outcomes = await Promise.allSettled([readPart(directory, dataPath, 'index', onRecord), readPart(directory, dataPath, 'rest', null)]);
  for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
}

function readPart(directory: string, dataPath: string, part: 'index' | 'rest', onRecord: ((kind: number, key: number, value: Uint8Array) => void) | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD_SCRIPT, directory, part], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let pending: Buffer = Buffer.alloc(0);
    let ended = false;
    let failure: Error | undefined;
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    child.stdout.on('data', (data: Buffer) => {
      if (failure !== undefined || ended) return;
      const bytes = pending.length === 0 ? data : Buffer.concat([pending, data]);
      let offset = 0;
      try {
        while (offset < bytes.length) {
          const kind = bytes[offset];
          if (kind === 0) {
            ended = true;
            offset++;
            break;
          }
          if (offset + HEADER_BYTES > bytes.length) break;
          const length = bytes.readUInt32LE(offset + 9);
          if (offset + HEADER_BYTES + length > bytes.length) break;
          onRecord!(kind, bytes.readDoubleLE(offset + 1), bytes.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length));
          offset += HEADER_BYTES + length;
        }
      } catch (error) {
        failure = error as Error;
        child.kill('SIGKILL');
      }
      pending = bytes.subarray(offset);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (failure !== undefined) reject(failure);
      else if (signal !== null) reject(new StoreCorruptError(dataPath, `reading it crashed LMDB with ${signal}`));
      else if (code !== 0) reject(new StoreCorruptError(dataPath, stderr.trim().split('\n').at(-1) || `exit code ${code}`));
      else if (!ended) reject(new StoreCorruptError(dataPath, 'the check of the file ended before its records did'));
      else resolve();
    });
  });
}
