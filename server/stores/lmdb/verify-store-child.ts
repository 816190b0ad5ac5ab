/*
 * Run as a child process by verifyStoreFile: walks every page of the store's B-trees, so that
 * a damaged file crashes this process, not the server. LMDB keeps no checksums and trusts the
 * pages it reads: garbage written over a page made it segfault or abort in 5 of 6 patterns
 * tried (one answered MDB_PAGE_NOTFOUND). Exits 0 when everything read; 1 with the reason on
 * stderr when LMDB reported one.
 */
import { open } from 'lmdb';
import { DATABASE_NAMES } from './store-databases.js';

const directory = process.argv[2];
try {
  const root = open({ path: directory, readOnly: true, maxDbs: DATABASE_NAMES.length + 1 });
  for (const name of DATABASE_NAMES) {
    const database = root.openDB({ name, encoding: 'binary' });
    // Walking the keys reaches every branch and leaf page (small values sit in the leaves);
    // the overflow pages of large values hold only bytes LMDB copies without interpreting,
    // and copying them all (results can be gigabytes) would slow every start.
    const entries = name === 'jobs' || name === 'results' ? database.getKeys() : database.getRange();
    for (const entry of entries) void entry;
  }
  await root.close();
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
}
