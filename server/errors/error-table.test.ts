import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERRORS } from './error-table.js';

// The README's "Errors" table, read from the checkout (dist/server/errors/ is three levels down).
const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

test('every row of the error table is documented in the README with its status and errorNum', () => {
  for (const error of Object.values(ERRORS)) {
    const line = README.split('\n').find((text) => text.startsWith(`| \`${error.code}\` |`));
    assert.ok(line !== undefined, `README lists ${error.code}`);
    const [, , status, errorNum, type] = line.split('|').map((cell) => cell.trim());
    assert.deepEqual([Number(status), Number(errorNum), type], [error.status, error.errorNum, `\`${error.type}\``], error.code);
  }
});

test('codes are unique, and the README lists no code the table lacks', () => {
  const codes = Object.values(ERRORS).map((error) => error.code);
  assert.equal(new Set(codes).size, codes.length);
  const documented = [...README.matchAll(/^\| `(ERR_[A-Z_]+)` \|/gm)].map((match) => match[1]);
  assert.deepEqual(documented.filter((code) => !codes.includes(code)), []);
});
