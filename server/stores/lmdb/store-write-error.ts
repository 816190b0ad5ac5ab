import { StoreFullError, StoreWriteError } from './store-errors.js';

/** errno and LMDB codes that mean the disk (or the file size limit) has no room. */
const NO_SPACE_CODES: ReadonlyMap<number, string> = new Map([
  [28, 'ENOSPC'], [27, 'EFBIG'], [122, 'EDQUOT'], [-30792, 'MDB_MAP_FULL'],
  // A short write(2), which is how a filling disk first shows (measured under ulimit -f), is reported by LMDB as EIO.
  [5, 'EIO: disk full or failing'],
]);

/**
 * What a rejected lmdb-js write becomes: StoreFullError for want of space, else StoreWriteError.
 * lmdb-js rejects each write of a failed transaction with "Commit failed" and puts the
 * transaction's own error (with its errno or LMDB code) in a `commitError` promise.
 */
export function storeWriteError(directory: string, error: unknown): Promise<never> {
  const reasonOf = (cause: unknown): Promise<never> => {
    const code = (cause as { code?: unknown }).code;
    const noSpace = typeof code === 'number' ? NO_SPACE_CODES.get(code) : undefined;
    throw noSpace === undefined
      ? new StoreWriteError(directory, (cause as Error).message, { cause })
      : new StoreFullError(directory, noSpace, { cause });
  };
  const commitError = (error as { commitError?: Promise<unknown> }).commitError;
  return commitError === undefined ? reasonOf(error) : commitError.then(() => reasonOf(error), reasonOf);
}
