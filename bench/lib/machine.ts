import { cpus, loadavg, platform, release, totalmem } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memory_gib: number;
  os: string;
  node: string;
  server: string;
  /** 1-minute load average when the run started and ended: the machine is shared. */
  load_start: number;
  load_end?: number;
}

export function describeMachine(serverVersion: string): Machine {
  const list = cpus();
  return {
    cpu: (list[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim(),
    cores: list.length,
    memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    server: serverVersion,
    load_start: round2(loadavg()[0] ?? 0),
  };
}

export function machineLine(m: Machine): string {
  const load = m.load_end === undefined ? `${m.load_start}` : `${m.load_start} → ${m.load_end}`;
  return `${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, ${m.os}, Node ${m.node}, ${m.server}; load avg (1 min) ${load}`;
}

export const round2 = (n: number): number => Math.round(n * 100) / 100;
