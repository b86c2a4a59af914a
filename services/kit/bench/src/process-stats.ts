// What a benchmark reports besides latency: the memory and CPU of the processes under test (Linux /proc).
import { readFileSync } from 'node:fs';

/** Resident and peak resident memory of a process in MiB (Linux /proc), or undefined when it cannot be read. */
export function memoryOf(pid: number | undefined): { rssMiB: number; peakMiB: number } | undefined {
  if (pid === undefined) return undefined;
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by each process (Linux /proc), and by the whole machine (busy and all). */
export interface CpuSnapshot {
  at: number;
  processes: Record<string, number | undefined>;
  machineBusy: number;
  machineAll: number;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** Reads the CPU times of these processes (by label) and of the machine; missing ones are undefined. */
export function cpuSnapshot(pids: Record<string, number | undefined>): CpuSnapshot {
  const processes: Record<string, number | undefined> = {};
  for (const [label, pid] of Object.entries(pids)) {
    try {
      if (pid === undefined) throw new Error('no pid');
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) start at field 3; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      processes[label] = (Number(fields[11]) + Number(fields[12])) / TICKS;
    } catch {
      processes[label] = undefined;
    }
  }
  let machineBusy = NaN;
  let machineAll = NaN;
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    machineAll = cpu.reduce((a, b) => a + b, 0) / TICKS;
    machineBusy = machineAll - (cpu[3]! + cpu[4]!) / TICKS;
  } catch {
    // not Linux: machine figures stay NaN
  }
  return { at: Date.now(), processes, machineBusy, machineAll };
}

/** CPU use between two snapshots: seconds per process, the machine's busy cores, and what nobody listed used. */
export function cpuBetween(
  before: CpuSnapshot,
  after: CpuSnapshot,
): { seconds: number; processes: Record<string, number | undefined>; busyCores: number; othersCores: number } {
  const seconds = (after.at - before.at) / 1000;
  const processes: Record<string, number | undefined> = {};
  let listed = 0;
  for (const label of Object.keys(after.processes)) {
    const a = after.processes[label];
    const b = before.processes[label];
    processes[label] = a === undefined || b === undefined ? undefined : a - b;
    listed += processes[label] ?? 0;
  }
  const busy = after.machineBusy - before.machineBusy;
  return { seconds, processes, busyCores: busy / seconds, othersCores: (busy - listed) / seconds };
}
