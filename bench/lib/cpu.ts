/**
 * CPU time spent per operation, to explain throughput on a small machine where the benchmark's
 * process and the database share the cores: this process (process.cpuUsage) and, when the server
 * runs on this machine and /proc is readable, the mariadbd/mysqld process (utime + stime).
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_US = 10_000; // USER_HZ is 100 on Linux

let serverPid: number | null | undefined;

/** The pid of the one local mariadbd/mysqld, or null when there is none (or several). */
function findServerPid(): number | null {
  if (serverPid !== undefined) return serverPid;
  serverPid = null;
  try {
    const pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
    const found = pids.filter((pid) => {
      try {
        return /^(mariadbd|mysqld)$/.test(readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
      } catch {
        return false; // the process ended while we looked
      }
    });
    if (found.length === 1) serverPid = Number(found[0]);
  } catch {
    // no /proc (macOS): only the client side is reported
  }
  return serverPid;
}

/** CPU µs (user + system) of a process so far, from /proc; undefined once it cannot be read. */
export function processCpuUs(pid: number | null | undefined): number | undefined {
  if (pid === null || pid === undefined) return undefined;
  try {
    // Fields after the command (which is in parentheses and may contain spaces): utime is the 12th, stime the 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * TICK_US;
  } catch {
    return undefined;
  }
}

function serverCpuUs(): number | undefined {
  return processCpuUs(findServerPid());
}

export interface CpuSample {
  client: NodeJS.CpuUsage;
  server: number | undefined;
}

export function cpuNow(): CpuSample {
  return { client: process.cpuUsage(), server: serverCpuUs() };
}

/** CPU µs spent since `start`, by this process and by the local server (undefined if unknown). */
export function cpuSince(start: CpuSample): { clientUs: number; serverUs: number | undefined } {
  const d = process.cpuUsage(start.client);
  const now = serverCpuUs();
  return {
    clientUs: d.user + d.system,
    serverUs: now === undefined || start.server === undefined ? undefined : now - start.server,
  };
}
