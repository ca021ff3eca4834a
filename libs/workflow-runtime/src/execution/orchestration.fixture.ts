import { topics } from '@keel/contracts';
import { type WorkflowDefinition, workflow } from '@keel/workflow-engine';
import type { Connector, ConnectorCallContext, ConnectorResult } from '../connectors/connector';
import { ConnectorRegistry } from '../connectors/connector.registry';
import { DefinitionRegistry } from '../persistence/definition.registry';
import {
  InMemoryOutbox,
  InMemoryTransactions,
  InMemoryWorkflowRepositories,
} from '../persistence/in-memory-workflow-repositories.fixture';
import { TaskWorker } from './task-worker';
import { TimerPoller } from './timer-poller';
import { WorkflowExecutor } from './workflow-executor';

export const owner = { caseId: 'case-1', tenant: 'acme', correlationId: 'corr-1' };

/** Two HTTP tasks one after the other: `pick`, then `send`. */
export const pickThenSend = workflow('pick-then-send', 1)
  .task('pick', {
    connector: { type: 'http', service: 'warehouse', method: 'POST', path: '/pick' },
    next: 'send',
  })
  .task('send', {
    connector: { type: 'http', service: 'carrier', method: 'POST', path: '/send' },
    next: 'done',
  })
  .end('done')
  .build();

/** The executor, worker and poller over in-memory repositories, on the repositories' clock. */
export function orchestration(
  definitions: readonly WorkflowDefinition[],
  answer: (context: ConnectorCallContext) => Promise<ConnectorResult> = () =>
    Promise.resolve({ outcome: 'succeeded', output: { ok: true } }),
  concurrency?: number,
) {
  const repositories = new InMemoryWorkflowRepositories();
  const transactions = new InMemoryTransactions();
  const outbox = new InMemoryOutbox();
  const registry = new DefinitionRegistry(repositories.definitions);
  for (const definition of definitions) registry.register(definition);
  const now = () => repositories.now();
  const executor = new WorkflowExecutor({
    registry,
    repositories,
    outbox,
    topics,
    now,
    source: 'urn:keel:workflow',
  });
  const calls: ConnectorCallContext[] = [];
  const http: Connector = {
    type: 'http',
    execute: (_call, context) => {
      calls.push(context);
      return answer(context);
    },
  };
  const worker = new TaskWorker({
    transactions,
    tasks: repositories.tasks,
    connectors: new ConnectorRegistry([http]),
    executor,
    leaseGraceMs: 100,
    ...(concurrency === undefined ? {} : { concurrency }),
  });
  const poller = new TimerPoller({ transactions, repositories, executor, now });
  const start = (instanceId: string, workflow: string) =>
    transactions.run((manager) => executor.start(manager, { instanceId, workflow, input: {}, owner }));
  return { repositories, transactions, outbox, registry, executor, worker, poller, calls, start };
}
