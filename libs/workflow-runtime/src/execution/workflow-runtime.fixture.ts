import { topics } from '@keel/contracts';
import { MessagingSchema, OutboxWriter, PollingLoop, messagingTablesMigration } from '@keel/messaging';
import {
  type JsonValue,
  type RenderedConnectorCall,
  type WorkflowDefinition,
  type WorkflowInput,
  workflow,
} from '@keel/workflow-engine';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import type { Connector, ConnectorCallContext, ConnectorResult } from '../connectors/connector';
import { ConnectorRegistry } from '../connectors/connector.registry';
import { DefinitionRegistry } from '../persistence/definition.registry';
import {
  DataSourceTransactions,
  checkpointCommits,
  postgresWorkflowRepositories,
} from '../persistence/postgres-workflow-repositories';
import { WorkflowTables1764000000100 } from '../persistence/workflow-tables.migration';
import { WorkflowInstanceTombstones1764000000500 } from '../persistence/instance-tombstones.migration';
import { WorkflowInstanceRelease1764300000000 } from '../persistence/instance-release.migration';
import { WorkflowTaskTimeouts1764000000300 } from '../persistence/workflow-task-timeouts.migration';
import { WorkflowTaskTraceContext1765000000000 } from '../persistence/task-trace-context.migration';
import { createWorkflowMetrics } from '../workflow.metrics';
import { ReplicaWakeups } from './replica-wakeups';
import { TaskWorker } from './task-worker';
import { TimerPoller } from './timer-poller';
import { type TransitionOutcome, WorkflowExecutor } from './workflow-executor';

/** One call a scripted connector received, with when it started and ended (ms since the epoch). */
export interface ConnectorCall {
  readonly idempotencyKey: string;
  readonly path: string;
  readonly method: string;
  readonly timeoutMs: number;
  readonly startedAt: number;
  endedAt?: number;
}

/** What the scripted connector does for one call: the result, after a delay it may or may not honour. */
export type ScriptedAnswer = (
  call: Extract<RenderedConnectorCall, { type: 'http' }>,
  context: ConnectorCallContext,
) => Promise<ConnectorResult>;

/** An `http` connector whose answers the test scripts; it records every call. */
export class ScriptedConnector implements Connector<Extract<RenderedConnectorCall, { type: 'http' }>> {
  readonly type = 'http' as const;
  readonly calls: ConnectorCall[] = [];

  constructor(public answer: ScriptedAnswer = () => Promise.resolve({ outcome: 'succeeded', output: {} })) {}

  async execute(
    call: Extract<RenderedConnectorCall, { type: 'http' }>,
    context: ConnectorCallContext,
  ): Promise<ConnectorResult> {
    const record: ConnectorCall = {
      idempotencyKey: context.idempotencyKey,
      path: call.path,
      method: call.method,
      timeoutMs: context.timeoutMs,
      startedAt: Date.now(),
    };
    this.calls.push(record);
    try {
      return await this.answer(call, context);
    } finally {
      record.endedAt = Date.now();
    }
  }

  callsFor(idempotencyKey: string): ConnectorCall[] {
    return this.calls.filter((call) => call.idempotencyKey === idempotencyKey);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A template of one HTTP task (`svc` `POST /work`) and its end: an instance runs while the call is open. */
export function oneTaskWorkflow(name: string): WorkflowDefinition {
  return workflow(name, 1)
    .task('work', {
      connector: { type: 'http', service: 'svc', method: 'POST', path: '/work' },
      next: 'done',
    })
    .end('done')
    .build();
}

/** A database of the test's own (`scratchDatabase` of `@keel/testing`, which only tests may import). */
export interface ScratchDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * A workflow runtime on a scratch database without Nest or Kafka: the executor, the task worker and the
 * timer poller as the service wires them, driven by the test (ticks, or polling loops it starts).
 */
export class RuntimeFixture {
  readonly executor: WorkflowExecutor;
  readonly worker: TaskWorker;
  readonly poller: TimerPoller;
  private readonly loops: PollingLoop[] = [];
  readonly errors: unknown[] = [];
  /** With `listenForReplicas`: the channel through which this runtime and others on its database wake each other. */
  private wakeups: ReplicaWakeups | undefined;

  private constructor(
    readonly database: ScratchDatabase,
    readonly dataSource: DataSource,
    registry: DefinitionRegistry,
    connectors: readonly Connector[],
    options: {
      leaseGraceMs: number;
      concurrency: number;
      otherReplicasPollMs: number;
      metricsRegistry?: Registry;
    },
  ) {
    const repositories = postgresWorkflowRepositories('workflow');
    const transactions = new DataSourceTransactions(dataSource);
    const metrics =
      options.metricsRegistry &&
      createWorkflowMetrics(options.metricsRegistry, transactions, repositories.instances);
    this.executor = new WorkflowExecutor({
      registry,
      repositories,
      outbox: new OutboxWriter(new MessagingSchema('workflow')),
      topics,
      now: () => new Date(),
      source: 'urn:keel:test',
      ...(metrics ? { metrics } : {}),
    });
    this.worker = new TaskWorker({
      transactions,
      tasks: repositories.tasks,
      connectors: new ConnectorRegistry(connectors),
      executor: this.executor,
      concurrency: options.concurrency,
      leaseGraceMs: options.leaseGraceMs,
      otherReplicasPollMs: options.otherReplicasPollMs,
      wakeOtherReplicas: () => this.wakeups?.wakeOthers(),
    });
    this.poller = new TimerPoller({
      transactions,
      repositories,
      executor: this.executor,
      now: () => new Date(),
    });
  }

  static async create(
    database: ScratchDatabase,
    definitions: readonly WorkflowDefinition[],
    connectors: readonly Connector[],
    options: {
      leaseGraceMs?: number;
      concurrency?: number;
      poolSize?: number;
      /** The worker's own claims without a wake-up; the fixture's default polls fast, as its loops do. */
      otherReplicasPollMs?: number;
      /** Where the executor's metrics register; without it, it counts nothing. */
      metricsRegistry?: Registry;
    } = {},
  ): Promise<RuntimeFixture> {
    const dataSource = await new DataSource({
      type: 'postgres',
      url: database.url,
      migrations: [
        messagingTablesMigration('workflow'),
        WorkflowTables1764000000100,
        WorkflowTaskTimeouts1764000000300,
        WorkflowInstanceTombstones1764000000500,
        WorkflowInstanceRelease1764300000000,
        WorkflowTaskTraceContext1765000000000,
      ],
      extra: { max: options.poolSize ?? 10 },
    }).initialize();
    await dataSource.runMigrations();
    const registry = new DefinitionRegistry(postgresWorkflowRepositories('workflow').definitions);
    for (const definition of definitions) registry.register(definition);
    await dataSource.transaction((manager) => registry.synchronize(manager));
    return new RuntimeFixture(database, dataSource, registry, connectors, {
      leaseGraceMs: options.leaseGraceMs ?? 100,
      concurrency: options.concurrency ?? 16,
      otherReplicasPollMs: options.otherReplicasPollMs ?? 20,
      ...(options.metricsRegistry ? { metricsRegistry: options.metricsRegistry } : {}),
    });
  }

  start(instanceId: string, workflow: string, input: JsonValue = {}): Promise<TransitionOutcome> {
    return this.dataSource.transaction((manager) =>
      this.executor.start(manager, {
        instanceId,
        workflow,
        input,
        owner: { caseId: instanceId, tenant: 'acme', correlationId: instanceId },
      }),
    );
  }

  apply(instanceId: string, input: WorkflowInput): Promise<TransitionOutcome> {
    return this.dataSource.transaction((manager) => this.executor.apply(manager, instanceId, input));
  }

  /**
   * Wires the worker as the service does for replicas: this process's commits that queued attempts nudge it,
   * and it wakes, and is woken by, the other runtimes on the database through their channel. Returns how many
   * wake-ups it received.
   */
  async listenForReplicas(): Promise<() => number> {
    let woken = 0;
    this.dataSource.subscribers.push(checkpointCommits(() => this.worker.nudge()));
    this.wakeups = new ReplicaWakeups({
      dataSource: this.dataSource,
      schema: 'workflow',
      onWake: () => {
        woken += 1;
        this.worker.otherReplicaQueued();
        for (const loop of this.loops) loop.nudge();
      },
      onError: (error) => this.errors.push(error),
    });
    await this.wakeups.start();
    return () => woken;
  }

  /** Runs the worker and the poller in the background, as the service does (but polling faster). */
  run(): void {
    const onError = (error: unknown) => this.errors.push(error);
    for (const tick of [() => this.worker.tick(), () => this.poller.tick()]) {
      const loop = new PollingLoop(tick, { intervalMs: 10, onError });
      loop.start();
      this.loops.push(loop);
    }
  }

  async stopLoops(): Promise<void> {
    await Promise.all(this.loops.splice(0).map((loop) => loop.stop()));
  }

  async status(instanceId: string): Promise<string | undefined> {
    const [row] = await this.dataSource.query<Array<{ status: string }>>(
      `SELECT status FROM workflow.instances WHERE id = $1`,
      [instanceId],
    );
    return row?.status;
  }

  async waitForStatus(instanceId: string, statuses: readonly string[], timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.status(instanceId);
      if (status !== undefined && statuses.includes(status)) return status;
      if (Date.now() > deadline) throw new Error(`${instanceId} is ${status}, not ${statuses.join('|')}`);
      await sleep(20);
    }
  }

  /** The transition log of an instance: each applied input and the events it emitted. */
  async history(
    instanceId: string,
  ): Promise<
    Array<{ input: WorkflowInput; events: Array<{ transition: string; detail: Record<string, unknown> }> }>
  > {
    return this.dataSource.query(
      `SELECT input, events FROM workflow.transitions WHERE instance_id = $1 ORDER BY seq`,
      [instanceId],
    );
  }

  async close(): Promise<void> {
    await this.stopLoops();
    await this.wakeups?.stop();
    await this.dataSource.destroy();
    await this.database.drop();
  }
}
