/**
 * Errors of the LMDB job store. Callers branch on `code`, never on the message; messages
 * name the directory and say what an operator can do.
 */
export class StoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Another process has the directory open (LMDB itself would let both write). */
export class StoreLockedError extends StoreError {
  constructor(directory: string, holderPid: number | null, options?: ErrorOptions) {
    const holder = holderPid === null ? 'another process' : `process ${holderPid}`;
    super('ERR_STORE_LOCKED', `the job store ${directory} is in use by ${holder}; stop it, or give this server its own --database.directory`, options);
  }
}

/** The directory was written by a newer version of this server, whose records this one cannot read. */
export class StoreFormatError extends StoreError {
  constructor(directory: string, found: number, supported: number) {
    super('ERR_STORE_FORMAT', `the job store ${directory} has format ${found}, newer than ${supported}, the newest this server reads; run the newer server, or move the directory away to start empty`);
  }
}

/** The data file cannot be read as a job store: garbage, truncated, or not an LMDB file. */
export class StoreCorruptError extends StoreError {
  constructor(path: string, reason: string, options?: ErrorOptions) {
    super('ERR_STORE_CORRUPT', `the job store file ${path} is damaged (${reason}); restore it from a backup, or move it away to start empty`, options);
  }
}

/** A write failed for want of space (disk full, file size limit, or a failing disk): nothing of it was stored. */
export class StoreFullError extends StoreError {
  constructor(directory: string, reason: string, options?: ErrorOptions) {
    super('ERR_STORE_FULL', `the job store ${directory} could not write (${reason}): free disk space; nothing of this call was stored`, options);
  }
}

/** A write failed for another reason: nothing of it was stored. */
export class StoreWriteError extends StoreError {
  constructor(directory: string, reason: string, options?: ErrorOptions) {
    super('ERR_STORE_WRITE', `the job store ${directory} could not write (${reason}); nothing of this call was stored`, options);
  }
}
