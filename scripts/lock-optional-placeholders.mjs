#!/usr/bin/env node
// npm 11 (npm/cli#9846) leaves optional platform packages the registry cannot serve out of
// package-lock.json, then `npm ci` rejects its own lock file ("Missing: ... from lock file").
// The registry this project installs from serves msgpackr-extract's native binary for Linux
// only, so after any `npm install` run this to put back the inert entries npm 11.13 wrote.
import { readFileSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key] !== undefined || !/^\d+\.\d+\.\d+$/.test(version)) continue;
    const platform = /-(darwin|linux|win32|freebsd)-(arm64|x64|arm|ia32)$/.exec(name);
    if (platform === null) continue;
    packages[key] = { version, cpu: [platform[2]], license: packages[path].license ?? 'MIT', optional: true, os: [platform[1]] };
    added++;
  }
}
writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} placeholder entr${added === 1 ? 'y' : 'ies'} for optional platform packages`);
