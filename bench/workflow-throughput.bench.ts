// Workflow throughput: N instances of a five-step HTTP template through the workflow service (a real
// process) on the local broker and Postgres; every transition checkpointed. Prints instances/s and step
// latency p50/p99 beside the Kafka baseline. Run: npm run bench -- workflow
import { performance } from 'node:perf_hooks';
import { waitFor } from '@keel/testing';
import { WorkflowE2eContext } from '../test/e2e/fixtures/workflow-e2e.context';
import { loadFigures, printFigures } from './bench-stats';

const instanceCount = Number(process.env.BENCH_INSTANCES ?? 1_000);

async function main(): Promise<void> {
  const context = new WorkflowE2eContext(0, { LOG_LEVEL: 'error' });
  context.publishDefinitions((file) => file.startsWith('five-step'));
  await context.setUp();
  try {
    await context.service.start();
    const started = performance.now();
    await context.sendCommands(
      Array.from({ length: instanceCount }, (_, n) => ({
        command: 'start' as const,
        instanceId: `bench-${n}`,
        template: 'five-step',
        input: { n },
      })),
    );
    await waitFor(async () => ((await context.countByStatus()).completed ?? 0) === instanceCount, {
      timeoutMs: 1_800_000,
      intervalMs: 200,
      what: 'all instances completed',
    });
    const seconds = (performance.now() - started) / 1000;
    const [steps] = await context.query<{ p50: number; p99: number; tasks: number }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, count(*)::int AS tasks
       FROM (SELECT extract(epoch FROM finished_at - created_at) * 1000 AS ms FROM workflow.tasks) t`,
    );
    const [transitions] = await context.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM workflow.transitions`,
    );
    console.log(
      `Workflow: ${instanceCount} instances × 5 HTTP tasks (five-step), one service process, task concurrency 16, ` +
        `local broker + Postgres; every transition = 1 Postgres transaction with checkpoint, log row and outbox rows.`,
    );
    console.table([
      {
        instances: instanceCount,
        seconds: seconds.toFixed(1),
        'instances/s': (instanceCount / seconds).toFixed(1),
        'tasks/s': ((steps?.tasks ?? 0) / seconds).toFixed(1),
        'transitions/s': ((transitions?.n ?? 0) / seconds).toFixed(1),
        'step p50 ms': Number(steps?.p50).toFixed(1),
        'step p99 ms': Number(steps?.p99).toFixed(1),
      },
    ]);
    console.log(
      'step latency = task queued (transition committed) → result applied (next transition committed)',
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
