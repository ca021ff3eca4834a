import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The fields of /proc/<pid>/stat after the command name, from the state on (field 3). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process in seconds (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 1/100 s). */
export function processCpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The postmaster (`…/bin/postgres -D …`) and its backends (`postgres: 15/main: …`), whose exits it reaps. */
export const isPostgresProcess = (commandLine: string) =>
  commandLine.startsWith('postgres') || commandLine.includes('/bin/postgres ');

/** The local Kafka broker's JVM. */
export const isKafkaBroker = (commandLine: string) => commandLine.includes('kafka.Kafka');

/**
 * CPU seconds so far of every process whose command line `matches`, by pid: its own (utime + stime) and that
 * of its children it reaped (cutime + cstime), so that Postgres's backends, which come and go with
 * connections, still count once they have exited (the postmaster reaps them). Measured by the pids at both
 * ends of a run (`cpuSecondsBetween`).
 */
export function processesCpuSeconds(matches: (commandLine: string) => boolean): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      if (!matches(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '))) continue;
      seconds.set(
        pid,
        statFields(pid)
          .slice(11, 15)
          .reduce((sum, ticks) => sum + Number(ticks), 0) / 100,
      );
    } catch {
      // Gone between the listing and the read: it is not part of the run's end.
    }
  }
  return seconds;
}

/**
 * CPU seconds between two `processesCpuSeconds` readings. A process that started meanwhile counts whole; one
 * that exited took its CPU to its parent's reaped share, so what it had at the start is taken off again.
 * NaN when no process matched: nothing was measured, which is not the same as nothing spent.
 */
export function cpuSecondsBetween(before: Map<number, number>, after: Map<number, number>): number {
  if (after.size === 0) return Number.NaN;
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  for (const [pid, seconds] of before) if (!after.has(pid)) total -= seconds;
  return total;
}

/**
 * Busy CPU seconds of the whole machine so far, every core together: user, nice, system, irq and softirq of
 * `/proc/stat` (guest time is inside user already; idle, iowait and steal are not work done here).
 */
export function machineBusySeconds(): number {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  const [user, nice, system, , , irq, softirq] = (cpu ?? '').trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) / 100;
}

/** Throughput and latency figures of one run, printed the same way by every bench. */
export interface RunFigures {
  readonly label: string;
  readonly messages: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time per message, in µs, by whom (e.g. this process, Postgres): what survives a loaded machine. */
  readonly cpuUsPerMessage?: Readonly<Record<string, number>>;
}

export function figures(label: string, latenciesMs: number[], seconds: number): RunFigures {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return {
    label,
    messages: sorted.length,
    seconds,
    perSecond: sorted.length / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

export function printFigures(rows: readonly RunFigures[]): void {
  console.table(
    rows.map((row) => ({
      run: row.label,
      messages: row.messages,
      seconds: row.seconds.toFixed(2),
      'msg/s': Math.round(row.perSecond),
      'p50 ms': row.p50Ms.toFixed(1),
      'p99 ms': row.p99Ms.toFixed(1),
      ...Object.fromEntries(
        Object.entries(row.cpuUsPerMessage ?? {}).map(([who, us]) => [`CPU µs/msg ${who}`, us.toFixed(0)]),
      ),
    })),
  );
}

const resultsDir = join(__dirname, '..', 'tmp', 'bench');

/** Keeps a bench's figures so a later bench can print them beside its own. */
export function saveFigures(bench: string, rows: readonly RunFigures[]): void {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${bench}.json`), JSON.stringify(rows, null, 2));
}

export function loadFigures(bench: string): RunFigures[] | undefined {
  try {
    return JSON.parse(readFileSync(join(resultsDir, `${bench}.json`), 'utf8')) as RunFigures[];
  } catch {
    return undefined;
  }
}
