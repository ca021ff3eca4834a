import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** utime + stime of a process in seconds (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 1/100 s). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * utime + stime so far of every process whose command line `matches`, by pid: a set of processes (Postgres's
 * backends, which come and go with connections) is measured by the pids it has at both ends of a run.
 */
export function processesCpuSeconds(matches: (commandLine: string) => boolean): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      if (matches(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')))
        seconds.set(pid, processCpuSeconds(pid));
    } catch {
      // Gone between the listing and the read: it is not part of the run's end.
    }
  }
  return seconds;
}

/** CPU seconds between two `processesCpuSeconds` readings; a process that started meanwhile counts whole. */
export function cpuSecondsBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
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
