import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  availableParallelism: number;
  node: string;
  platform: string;
  totalMemoryBytes: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[];
  note: string;
}

export function machineInfo(loadAverageAtStart: number[]): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemoryBytes: os.totalmem(),
    loadAverageAtStart,
    loadAverageAtEnd: os.loadavg(),
    note: 'Shared machine: other processes may run during the benchmark, so throughput varies between runs; CPU µs per operation is the steadier comparison.',
  };
}
