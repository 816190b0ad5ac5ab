import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU a server process used over a measured interval. */
export interface ServerCpuUsage {
  /** User plus system time of all the process's threads, in microseconds (10 ms resolution at the usual 100 Hz). */
  readonly cpuMicros: number;
  readonly wallMicros: number;
}

export interface ServerCpuMeter {
  /** Reads the counters again and returns the usage since measureServerCpu was called. */
  stop(): ServerCpuUsage;
}

/** Fields of /proc/<pid>/stat (1-based, as proc(5) numbers them) counted after the closing paren of `comm`. */
const UTIME_FIELD = 14;
const STIME_FIELD = 15;
const FIELDS_BEFORE_STATE = 2;

let microsPerClockTick: number | undefined;

function clockTickMicros(): number {
  // utime and stime count USER_HZ ticks; getconf is the portable way to learn the rate.
  microsPerClockTick ??= 1_000_000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return microsPerClockTick;
}

/** User plus system time of process `pid` so far, all its threads, in microseconds (Linux /proc). */
export function readCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm may itself hold spaces and parens, so split only after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[UTIME_FIELD - FIELDS_BEFORE_STATE - 1]) + Number(fields[STIME_FIELD - FIELDS_BEFORE_STATE - 1]);
  if (!Number.isFinite(ticks)) throw new Error(`cannot read utime and stime of process ${pid} from /proc/${pid}/stat`);
  return ticks * clockTickMicros();
}

/**
 * Starts measuring the CPU time of process `pid`, worker threads included
 * (the process line of /proc/<pid>/stat sums all its threads, live and
 * exited). Linux only. Divide by completed operations for CPU per operation:
 * the fair comparison when the load generator, not the server, saturates.
 */
export function measureServerCpu(pid: number): ServerCpuMeter {
  const startCpuMicros = readCpuMicros(pid);
  const startWallMs = performance.now();
  return {
    stop(): ServerCpuUsage {
      return {
        cpuMicros: readCpuMicros(pid) - startCpuMicros,
        wallMicros: (performance.now() - startWallMs) * 1000,
      };
    },
  };
}
