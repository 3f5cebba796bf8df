// CPU accounting for benchmarks, read from /proc (Linux): what a service, PostgreSQL and the
// load client each spent, so a figure can say where the time went.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** utime + stime of a process in seconds (USER_HZ is 100 on Linux) and its parent, or null. */
export function procStat(pid: number): { cpu: number; ppid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { cpu: (Number(fields[11]) + Number(fields[12])) / 100, ppid: Number(fields[1]) };
  } catch {
    return null;
  }
}

/** CPU seconds so far of the postmaster and of each of its children, by process id. */
export function postgresCpu(pgDataDir: string): Map<number, number> {
  const postmaster = Number(readFileSync(join(pgDataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const cpu = new Map<number, number>([[postmaster, procStat(postmaster)?.cpu ?? 0]]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(Number(entry));
    if (s && s.ppid === postmaster) cpu.set(Number(entry), s.cpu);
  }
  return cpu;
}
