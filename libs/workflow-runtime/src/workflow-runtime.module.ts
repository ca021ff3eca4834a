import { EventPublisher, OutboxWriter, PollingLoop, TOPICS, type Topics } from '@keel/messaging';
import { METRICS_REGISTRY, PortCallTimer } from '@keel/observability';
import {
  type AppliedRelease,
  CurrentRelease,
  type ReleaseApplier,
  ReleaseAppliers,
  artifactsOf,
} from '@keel/releases';
import type { WorkflowDefinition } from '@keel/workflow-engine';
import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import { DataSource, type EntitySubscriberInterface } from 'typeorm';
import { WorkflowInstancesController } from './api/workflow-instances.controller';
import { ConnectorRegistry } from './connectors/connector.registry';
import { HttpConnector } from './connectors/http.connector';
import { KafkaConnector } from './connectors/kafka.connector';
import { PostgresConnector } from './connectors/postgres.connector';
import type { PostgresStatement } from './persistence/postgres-statements-file';
import { WorkflowInboxController } from './consumers/workflow-inbox.controller';
import { CronScheduler } from './execution/cron-scheduler';
import { RetentionPruner } from './execution/retention-pruner';
import { ReplicaWakeups } from './execution/replica-wakeups';
import { TaskWorker, defaultOtherReplicasPollMs } from './execution/task-worker';
import { TimerPoller } from './execution/timer-poller';
import { WorkflowExecutor } from './execution/workflow-executor';
import {
  DefinitionRegistry,
  type ReleasedTemplates,
  releasedDefinitions,
} from './persistence/definition.registry';
import {
  DataSourceTransactions,
  postgresWorkflowRepositories,
  checkpointCommits,
} from './persistence/postgres-workflow-repositories';
import type { Transactions, WorkflowRepositories } from './persistence/workflow-repositories';
import { WORKFLOW_REPOSITORIES, WORKFLOW_TRANSACTIONS } from './persistence/workflow-repositories.tokens';
import { createWorkflowMetrics, type WorkflowMetrics } from './workflow.metrics';

export interface WorkflowRuntimeOptions {
  /** The Postgres schema the service's repositories work in (its migrations create it). */
  readonly schema: string;
  /**
   * The bundled and file definitions: they seed a fresh install. Once a governance release is in force
   * (`ReleasesModule` in the application), templates come from releases and these are not registered.
   */
  readonly definitions: readonly WorkflowDefinition[];
  readonly httpServices: Readonly<Record<string, string>>;
  /** SQL of the statements Postgres tasks may run, by name. */
  readonly postgresStatements: Readonly<Record<string, PostgresStatement>>;
  readonly taskConcurrency: number;
  readonly taskLeaseGraceMs: number;
  readonly retentionMs: number;
  /** How long a pruned instance's tombstone stops a replayed start: the deduplication window. */
  readonly tombstoneRetentionMs: number;
  readonly pruneIntervalMs: number;
  readonly scheduleTenant: string;
  /** CloudEvents `source` of what the service emits. */
  readonly source: string;
  readonly now?: () => Date;
}

const WORKFLOW_OPTIONS = Symbol('keel.workflow-options');
const WORKFLOW_METRICS = Symbol('keel.workflow-metrics');

/** The background workers of the service, started once the database is migrated and definitions stored. */
@Injectable()
export class WorkflowWorkers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WorkflowWorkers');
  private readonly scheduler: CronScheduler;
  private readonly tasks: TaskWorker;
  private readonly loops: PollingLoop[];
  private readonly taskCommits: EntitySubscriberInterface;
  private readonly wakeups: ReplicaWakeups;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(WORKFLOW_TRANSACTIONS) private readonly transactions: Transactions,
    @Inject(WORKFLOW_REPOSITORIES) repositories: WorkflowRepositories,
    private readonly registry: DefinitionRegistry,
    executor: WorkflowExecutor,
    connectors: ConnectorRegistry,
    @Inject(WORKFLOW_OPTIONS) private readonly options: WorkflowRuntimeOptions,
    @Inject(WORKFLOW_METRICS) metrics: WorkflowMetrics,
    @Optional() @Inject(CurrentRelease) private readonly releases?: CurrentRelease,
    @Optional() @Inject(ReleaseAppliers) appliers?: ReleaseAppliers,
  ) {
    const now = options.now ?? (() => new Date());
    appliers?.register(releasedTemplatesApplier(registry));
    const onError = (error: unknown) =>
      this.logger.error(error instanceof Error ? error.stack : String(error));
    const taskLoop = new PollingLoop(() => this.tasks.tick(), {
      intervalMs: defaultOtherReplicasPollMs,
      onError,
    });
    this.wakeups = new ReplicaWakeups({
      dataSource,
      schema: options.schema,
      onWake: () => {
        taskLoop.nudge();
        this.tasks.otherReplicaQueued();
      },
      onError: (error) => this.logger.warn(`task wake-ups between replicas: ${String(error)}`),
    });
    this.tasks = new TaskWorker({
      transactions,
      tasks: repositories.tasks,
      connectors,
      executor,
      concurrency: options.taskConcurrency,
      leaseGraceMs: options.taskLeaseGraceMs,
      metrics,
      otherReplicasPollMs: defaultOtherReplicasPollMs,
      wakeOtherReplicas: () => this.wakeups.wakeOthers(),
    });
    const timers = new TimerPoller({ transactions, repositories, executor, now });
    this.scheduler = new CronScheduler({
      transactions,
      schedules: repositories.schedules,
      registry,
      executor,
      now,
      tenant: options.scheduleTenant,
    });
    const pruner = new RetentionPruner({
      transactions,
      tombstones: repositories.tombstones,
      retentionMs: options.retentionMs,
      tombstoneRetentionMs: options.tombstoneRetentionMs,
    });
    // A transaction of this process that queued attempts wakes the worker as it commits (the inbox's starts,
    // the API's commands, the poller's retries), other replicas' wake-ups come through the channel, and the
    // poll is left for what a missed wake-up left. Its commit also lets the repositories keep the states it
    // wrote (locking those instances again reads only `seq`).
    this.taskCommits = checkpointCommits(() => {
      taskLoop.nudge();
      this.tasks.nudge();
    });
    this.loops = [
      taskLoop,
      new PollingLoop(() => timers.tick(), { intervalMs: 250, onError }),
      new PollingLoop(() => this.scheduler.tick(), { intervalMs: 1_000, onError }),
      new PollingLoop(() => pruner.tick(), { intervalMs: options.pruneIntervalMs, onError }),
    ];
  }

  async onApplicationBootstrap(): Promise<void> {
    const inForce = await this.releases?.refresh();
    await this.transactions.run(async (manager) => {
      // Files seed a fresh install only: with a release in force its templates are the truth, and an image's
      // file must not clash with (or stand beside) what governance approved.
      if (inForce?.production === undefined) {
        for (const definition of this.options.definitions) this.registry.register(definition);
      }
      await this.registry.synchronize(manager);
    });
    // Every replica follows the release in force, whichever of them consumed it (CurrentRelease polls).
    this.releases?.onChange(({ production }) => {
      try {
        this.registry.follow(production && followed(production));
      } catch (error) {
        this.logger.error(`release '${production?.id}' not followed: ${String(error)}`);
      }
    });
    await this.scheduler.arm();
    this.dataSource.subscribers.push(this.taskCommits);
    await this.wakeups.start();
    for (const loop of this.loops) loop.start();
  }

  async onApplicationShutdown(): Promise<void> {
    // From now on what this process queues is other replicas' to claim, and they are woken for it.
    this.tasks.stopClaiming();
    try {
      await Promise.all(this.loops.map((loop) => loop.stop()));
      // Calls that outlasted their tick's patience are still running: let them apply their results (their
      // commits still end their checkpoints, so what they count is counted).
      await this.tasks.drain();
    } finally {
      await this.wakeups.stop();
      const subscribers = this.dataSource.subscribers;
      if (subscribers.includes(this.taskCommits))
        subscribers.splice(subscribers.indexOf(this.taskCommits), 1);
    }
  }
}

/**
 * The workflow service's feature: executor over the pure engine, Kafka inbox (decisions, commands,
 * approvals), REST API, task worker with connectors, durable timers, cron starts and retention.
 * Needs `PersistenceModule`, `MetricsModule` and `MessagingModule` in the application.
 */
@Module({})
export class WorkflowRuntimeModule {
  static forRoot(options: WorkflowRuntimeOptions): DynamicModule {
    const now = options.now ?? (() => new Date());
    return {
      module: WorkflowRuntimeModule,
      controllers: [WorkflowInboxController, WorkflowInstancesController],
      providers: [
        { provide: WORKFLOW_OPTIONS, useValue: options },
        {
          provide: WORKFLOW_TRANSACTIONS,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => new DataSourceTransactions(dataSource),
        },
        {
          provide: WORKFLOW_REPOSITORIES,
          inject: [PortCallTimer],
          useFactory: (timer: PortCallTimer) => timedRepositories(timer, options.schema),
        },
        {
          provide: DefinitionRegistry,
          inject: [WORKFLOW_REPOSITORIES],
          // The definitions are registered at bootstrap, once it is known whether a release is in force.
          useFactory: (repositories: WorkflowRepositories) =>
            new DefinitionRegistry(repositories.definitions),
        },
        {
          provide: WORKFLOW_METRICS,
          inject: [METRICS_REGISTRY, WORKFLOW_TRANSACTIONS, WORKFLOW_REPOSITORIES],
          useFactory: (registry: Registry, transactions: Transactions, repositories: WorkflowRepositories) =>
            createWorkflowMetrics(registry, transactions, repositories.instances),
        },
        {
          provide: WorkflowExecutor,
          inject: [DefinitionRegistry, WORKFLOW_REPOSITORIES, OutboxWriter, TOPICS, WORKFLOW_METRICS],
          useFactory: (
            registry: DefinitionRegistry,
            repositories: WorkflowRepositories,
            outbox: OutboxWriter,
            topics: Topics,
            metrics: WorkflowMetrics,
          ) =>
            new WorkflowExecutor({
              registry,
              repositories,
              outbox,
              topics,
              now,
              source: options.source,
              metrics,
            }),
        },
        {
          provide: ConnectorRegistry,
          inject: [EventPublisher, TOPICS, DataSource],
          useFactory: (publisher: EventPublisher, topics: Topics, dataSource: DataSource) =>
            new ConnectorRegistry([
              new HttpConnector(options.httpServices),
              new KafkaConnector(publisher, topics, options.source),
              new PostgresConnector(dataSource, options.postgresStatements),
            ]),
        },
        WorkflowWorkers,
      ],
      exports: [WorkflowExecutor, DefinitionRegistry, WorkflowWorkers],
    };
  }
}

/**
 * A production release's templates go into the definitions table all replicas share, in the consumer's
 * transaction; a version stored with other content refuses the release (dead-lettered, the release in force
 * stays). Workflows act, so a shadow release's templates are never registered: shadow is for decisions.
 */
function releasedTemplatesApplier(registry: DefinitionRegistry): ReleaseApplier {
  return {
    async apply(manager, release) {
      if (release.stage !== 'production') return;
      for (const definition of releasedDefinitions(artifactsOf(release, 'workflow-template'))) {
        await registry.publish(manager, definition);
      }
    },
  };
}

/** The versions a release names of its templates (by the workflow names their contents give). */
function followed(release: AppliedRelease): ReleasedTemplates {
  const definitions = releasedDefinitions(artifactsOf(release, 'workflow-template'));
  return {
    id: release.id,
    versions: new Map(definitions.map((definition) => [definition.name, definition.version])),
  };
}

/**
 * Every repository call is timed in `keel_port_call_duration_seconds{port="workflow.<table>",method}`; the
 * wrapper adds no statement, so no round trip.
 */
function timedRepositories(timer: PortCallTimer, schema: string): WorkflowRepositories {
  const repositories = postgresWorkflowRepositories(schema);
  return {
    checkpoints: timer.wrap('workflow.checkpoints', repositories.checkpoints),
    instances: timer.wrap('workflow.instances', repositories.instances),
    transitions: timer.wrap('workflow.transitions', repositories.transitions),
    tombstones: timer.wrap('workflow.tombstones', repositories.tombstones),
    tasks: timer.wrap('workflow.tasks', repositories.tasks),
    timers: timer.wrap('workflow.timers', repositories.timers),
    dueWork: timer.wrap('workflow.due-work', repositories.dueWork),
    schedules: timer.wrap('workflow.schedules', repositories.schedules),
    definitions: timer.wrap('workflow.definitions', repositories.definitions),
  };
}
