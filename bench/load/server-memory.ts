import { readFileSync } from 'node:fs';

/**
 * Resident set size of process `pid` in KiB, from the `VmRSS:` line of /proc/<pid>/status
 * (Linux only). It counts every thread of the process, workers included.
 */
export function readServerRssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS line in /proc/${pid}/status (is process ${pid} a zombie?)`);
  return Number(match[1]);
}
