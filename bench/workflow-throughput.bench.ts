// Workflow throughput: five-step HTTP instances through the workflow service (a real process) on the local
// broker and Postgres, every transition checkpointed. A burst (all instances at once) gives the capacity; a
// paced run below it gives the step latency without queueing. Printed beside the Kafka baseline.
// Run: npm run bench -- workflow
import { mkdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { waitFor } from '@keel/testing';
import { WorkflowE2eContext } from '../test/e2e/fixtures/workflow-e2e.context';
import {
  cpuSecondsBetween,
  figures,
  isKafkaBroker,
  isPostgresProcess,
  loadFigures,
  printFigures,
  processCpuSeconds,
  processesCpuSeconds,
} from './bench-stats';

// Issue 11's targets for the workflow service alone, which the defaults measure.
const targets = { burstInstancesPerSecond: 500, pacedStepP50Ms: 5, pacedStepP99Ms: 20 };
const burstInstances = Number(process.env.BENCH_INSTANCES ?? 5_000);
const pacedRate = Number(process.env.BENCH_PACED_RATE ?? 100);
const pacedInstances = Number(process.env.BENCH_PACED_INSTANCES ?? 10 * pacedRate);
// A folder for a CPU profile of the service process (written when it stops cleanly, before the teardown).
const cpuProfileDir = process.env.BENCH_CPU_PROF;

interface RunResult {
  run: string;
  instances: number;
  seconds: string;
  'all started s': string;
  'instances/s': string;
  'steps/s': string;
  'attempts/s': string;
  'transitions/s': string;
  'step p50 ms': string;
  'step p99 ms': string;
  'service CPU ms/instance': string;
  'service cores': string;
  'all CPU ms/instance': string;
  'Postgres / broker / bench CPU ms/instance': string;
  'load before / after': string;
}

interface Measured {
  readonly row: RunResult;
  readonly instancesPerSecond: number;
  readonly stepP50Ms: number;
  readonly stepP99Ms: number;
  /** CPU of the service, Postgres, the broker and this bench (the far side, the commands) per instance. */
  readonly allCpuMsPerInstance: number;
}

/** The service process's CPU seconds so far (NaN before it runs). */
function cpuSeconds(pid: number | undefined): number {
  return pid === undefined ? Number.NaN : processCpuSeconds(pid);
}

const load = () => loadavg()[0]?.toFixed(1) ?? '?';

async function measure(
  context: WorkflowE2eContext,
  label: string,
  prefix: string,
  count: number,
  perSecond?: number,
): Promise<Measured> {
  const loadBefore = load();
  const cpuBefore = cpuSeconds(context.service.pid);
  // Postgres's processes include the postmaster, which reaps exited backends' CPU.
  const postgresBefore = processesCpuSeconds(isPostgresProcess);
  const brokerBefore = processesCpuSeconds(isKafkaBroker);
  const benchBefore = process.cpuUsage();
  const started = performance.now();
  for (let n = 0; n < count; n += perSecond ? 1 : count) {
    const batch = Array.from({ length: perSecond ? 1 : count }, (_, i) => ({
      command: 'start' as const,
      instanceId: `${prefix}-${n + i}`,
      template: 'five-step',
      input: { n: n + i },
    }));
    if (perSecond) {
      const wait = started + (n / perSecond) * 1000 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await context.sendCommands(batch);
  }
  await waitFor(
    async () => {
      const [row] = await context.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM workflow.instances WHERE id LIKE $1 AND status = 'completed'`,
        [`${prefix}-%`],
      );
      return row?.n === count;
    },
    { timeoutMs: 1_800_000, intervalMs: 200, what: `${label} completed` },
  );
  const seconds = (performance.now() - started) / 1000;
  const serviceCpuSeconds = cpuSeconds(context.service.pid) - cpuBefore;
  const postgresCpuSeconds = cpuSecondsBetween(postgresBefore, processesCpuSeconds(isPostgresProcess));
  const brokerCpuSeconds = cpuSecondsBetween(brokerBefore, processesCpuSeconds(isKafkaBroker));
  const bench = process.cpuUsage(benchBefore);
  const benchCpuSeconds = (bench.user + bench.system) / 1e6;
  const allCpuSeconds = serviceCpuSeconds + postgresCpuSeconds + brokerCpuSeconds + benchCpuSeconds;
  const msPerInstance = (cpuSeconds: number) => ((cpuSeconds * 1000) / count).toFixed(2);
  // Step latency on this process's clock, after commit: step k+1's call can reach the far side only once
  // step k's result was applied and committed and the next attempt claimed, so the gap between an instance's
  // consecutive first calls is one whole step. Completed steps are distinct keys; attempts are all calls.
  const firstCalls = new Map<string, number[]>();
  let attempts = 0;
  for (const [key, entry] of context.ledger.entries) {
    if (!key.startsWith(`${prefix}-`)) continue;
    attempts += entry.calls;
    const instance = key.slice(0, key.indexOf(':'));
    firstCalls.set(instance, [...(firstCalls.get(instance) ?? []), entry.firstCallAt]);
  }
  const gaps = [...firstCalls.values()].flatMap((times) =>
    times.sort((a, b) => a - b).flatMap((at, index) => (index === 0 ? [] : [at - (times[index - 1] ?? at)])),
  );
  const steps = figures(label, gaps, seconds);
  const completedSteps = [...firstCalls.values()].reduce((sum, times) => sum + times.length, 0);
  const [transitions] = await context.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM workflow.transitions WHERE instance_id LIKE $1`,
    [`${prefix}-%`],
  );
  // When the inbox had started the last instance, from the first: how much of the run the starts took.
  const [starts] = await context.query<{ s: number }>(
    `SELECT extract(epoch FROM max(created_at) - min(created_at))::float AS s FROM workflow.instances WHERE id LIKE $1`,
    [`${prefix}-%`],
  );
  return {
    row: {
      run: label,
      instances: count,
      seconds: seconds.toFixed(1),
      'all started s': (starts?.s ?? 0).toFixed(1),
      'instances/s': (count / seconds).toFixed(1),
      'steps/s': (completedSteps / seconds).toFixed(1),
      'attempts/s': (attempts / seconds).toFixed(1),
      'transitions/s': ((transitions?.n ?? 0) / seconds).toFixed(1),
      'step p50 ms': steps.p50Ms.toFixed(1),
      'step p99 ms': steps.p99Ms.toFixed(1),
      // CPU per unit of work survives a loaded machine better than wall-clock rates do.
      'service CPU ms/instance': msPerInstance(serviceCpuSeconds),
      // Near 1, the service's one JavaScript thread is what limits the run.
      'service cores': (serviceCpuSeconds / seconds).toFixed(2),
      'all CPU ms/instance': msPerInstance(allCpuSeconds),
      'Postgres / broker / bench CPU ms/instance': [postgresCpuSeconds, brokerCpuSeconds, benchCpuSeconds]
        .map(msPerInstance)
        .join(' / '),
      'load before / after': `${loadBefore} / ${load()}`,
    },
    instancesPerSecond: count / seconds,
    stepP50Ms: steps.p50Ms,
    stepP99Ms: steps.p99Ms,
    allCpuMsPerInstance: (allCpuSeconds * 1000) / count,
  };
}

const met = (ok: boolean) => (ok ? 'met' : 'NOT met');

async function main(): Promise<void> {
  if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });
  const context = new WorkflowE2eContext(
    0,
    cpuProfileDir
      ? {
          NODE_OPTIONS: `--require ${join(__dirname, 'cpu-profile.preload.js')}`,
          KEEL_CPU_PROFILE_DIR: cpuProfileDir,
        }
      : {},
  );
  context.publishDefinitions((file) => file.startsWith('five-step'));
  await context.setUp();
  try {
    await context.service.start();
    const burst = await measure(context, 'burst', 'burst', burstInstances);
    const paced = await measure(context, `paced ${pacedRate}/s`, 'paced', pacedInstances, pacedRate);
    console.log(
      'Workflow: five-step template (5 HTTP tasks to a local server), one service process, task concurrency ' +
        `${process.env.WORKFLOW_TASK_CONCURRENCY ?? 'default'}, local broker + Postgres, ${cpus().length} cores ` +
        'shared with them and the bench; starts of a run applied together, results that arrive together ' +
        'applied in one transaction (group commit).',
    );
    console.table([burst.row, paced.row]);
    console.table([
      {
        figure: `burst of ${burstInstances}: instances/s`,
        value: burst.instancesPerSecond.toFixed(1),
        target: `≥ ${targets.burstInstancesPerSecond}`,
        verdict: met(burst.instancesPerSecond >= targets.burstInstancesPerSecond),
      },
      {
        figure: `paced ${pacedRate}/s: step p50 ms`,
        value: paced.stepP50Ms.toFixed(1),
        target: `≤ ${targets.pacedStepP50Ms}`,
        verdict: met(paced.stepP50Ms <= targets.pacedStepP50Ms),
      },
      {
        figure: `paced ${pacedRate}/s: step p99 ms`,
        value: paced.stepP99Ms.toFixed(1),
        target: `≤ ${targets.pacedStepP99Ms}`,
        verdict: met(paced.stepP99Ms <= targets.pacedStepP99Ms),
      },
      {
        figure: `instances/s ${cpus().length} cores fit at the burst's CPU per instance (all processes)`,
        value: ((cpus().length * 1000) / burst.allCpuMsPerInstance).toFixed(0),
        target: '',
        verdict: '',
      },
    ]);
    if (cpuProfileDir) {
      await context.service.stop();
      console.log(`CPU profile of the service in ${cpuProfileDir}`);
    }
    console.log(
      "step latency = one step's call at the far side → the next step's call (its result applied and committed, " +
        'the next attempt claimed), on the bench clock; steps/s counts completed steps, attempts/s every call',
    );
    const baseline = loadFigures('kafka-baseline');
    if (baseline) {
      console.log('Kafka baseline (last `npm run bench -- kafka` on this machine):');
      printFigures(baseline);
    } else {
      console.log('No Kafka baseline recorded yet: run `npm run bench -- kafka` to print it here.');
    }
  } finally {
    await context.tearDown();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
