/*
 * Run as a child process by verifyStoreFile: walks every page of the store's B-trees, so that
 * a damaged file crashes this process, not the server. LMDB keeps no checksums and trusts the
 * pages it reads: garbage written over a page made it segfault or abort in 5 of 6 patterns
 * tried (one answered MDB_PAGE_NOTFOUND). Exits 0 when everything read; 1 with the reason on
 * stderr when LMDB reported one.
 *
 * Two run at once: `index` streams the records the server's index is rebuilt from (owners,
 * types, gone, jobs: see IndexBuilder) to stdout, `[kind u8][key f64][length u32][bytes]` each, then
 * a 0 byte, so that the parent builds its index as they come and never reads a page before it
 * was read here; `rest` walks the other databases meanwhile.
 */
import { writeSync } from 'node:fs';
import { open } from 'lmdb';
import { RECORD_GONE, RECORD_JOB, RECORD_OWNER, RECORD_TYPE } from './load-index.js';
import { DATABASE_NAMES } from './store-databases.js';

const CHUNK_BYTES = 1 << 20;
const HEADER_BYTES = 13;
let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
let used = 0;

function flush(): void {
  for (let written = 0; written < used;) written += writeSync(1, chunk, written, used - written);
  used = 0;
}

function emit(kind: number, key: number, value: Uint8Array): void {
  if (used + HEADER_BYTES + value.length > chunk.length) {
    flush();
    if (HEADER_BYTES + value.length > chunk.length) chunk = Buffer.allocUnsafe(HEADER_BYTES + value.length);
  }
  chunk[used] = kind;
  chunk.writeDoubleLE(key, used + 1);
  chunk.writeUInt32LE(value.length, used + 9);
  chunk.set(value, used + HEADER_BYTES);
  used += HEADER_BYTES + value.length;
}

const STREAMED: Readonly<Record<string, number>> = { owners: RECORD_OWNER, types: RECORD_TYPE, gone: RECORD_GONE, jobs: RECORD_JOB };
const directory = process.argv[2];
/** `index`: stream the index's databases; `rest`: walk the others (a second child, at the same time). */
const part = process.argv[3];
try {
  const root = open({ path: directory, readOnly: true, maxDbs: DATABASE_NAMES.length + 1 });
  const names = part === 'index' ? ['owners', 'types', 'gone', 'jobs'] : DATABASE_NAMES.filter((name) => STREAMED[name] === undefined);
  for (const name of names) {
    const database = root.openDB<Buffer, number>({ name, encoding: 'binary' });
    const kind = STREAMED[name];
    if (kind !== undefined) {
      for (const { key, value } of database.getRange()) emit(kind, key, value);
      continue;
    }
    // Walking the keys reaches every branch and leaf page (small values sit in the leaves);
    // the overflow pages of large values hold only bytes LMDB copies without interpreting,
    // and copying them all (results can be gigabytes) would slow every start.
    const entries = name === 'results' ? database.getKeys() : database.getRange();
    for (const entry of entries) void entry;
  }
  chunk[used++] = 0;
  flush();
  await root.close();
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
}
