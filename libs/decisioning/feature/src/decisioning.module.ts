import {
  type ChatModel,
  type KnowledgeSearch,
  DecisioningAgentError,
  OpenAiChatModel,
  RetrievalKnowledgeSearch,
} from '@keel/decisioning-agent';
import { type DecisionArtifacts, currentArtifacts } from '@keel/decisioning-domain';
import { OutboxWriter, TOPICS, type Topics } from '@keel/messaging';
import { METRICS_REGISTRY, PortCallTimer } from '@keel/observability';
import {
  type BeforeApplicationShutdown,
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { DecisioningInboxController } from './consumers/decisioning-inbox.controller';
import { DecideUseCase } from './decide.usecase';
import { DecisionPublisher } from './decision-publisher';
import { DecisionWorker } from './decision-worker';
import { decisionWorkerConfigSchema } from './decision-worker.config';
import { type DecisioningConfig } from './decisioning.config';
import { createDecisioningMetrics } from './decisioning.metrics';
import { CaseMemoryRepository } from './persistence/case-memory.repository';
import { DecisionQueueLeadership } from './persistence/decision-queue.leadership';
import { DecisionQueueRepository } from './persistence/decision-queue.repository';

export interface DecisioningModuleOptions {
  readonly config: DecisioningConfig;
  /** The service's Postgres schema. */
  readonly schema: string;
  /** CloudEvents `source` of what the service emits. */
  readonly source: string;
  readonly artifacts?: DecisionArtifacts;
}

const MODEL = Symbol('keel.decisioning-model');

/** Without retrieval configured the agent decides without knowledge, and each record shows the lookup failed. */
const noRetrieval: KnowledgeSearch = {
  search: () =>
    Promise.reject(new DecisioningAgentError('knowledge-unavailable', 'retrieval is not configured')),
};

@Injectable()
class ModelLifecycle implements OnApplicationShutdown {
  constructor(@Inject(MODEL) private readonly model: ChatModel | undefined) {}

  onApplicationShutdown(): void {
    if (this.model instanceof OpenAiChatModel) this.model.shutdown();
  }
}

/** Drains the decision queue for the application's lifetime; stops before the data source closes. */
@Injectable()
class DecisionWorkerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(DecisionWorker) private readonly worker: DecisionWorker) {}

  onApplicationBootstrap(): void {
    this.worker.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.worker.stop();
  }
}

/**
 * The decisioning service's feature: the Kafka inbox (case events, workflow decision requests) queueing
 * triggers, the worker deciding them on the configured model or the offline planner, retrieval, and the case
 * memory. Needs the chassis modules.
 */
@Module({})
export class DecisioningModule {
  static forRoot(options: DecisioningModuleOptions): DynamicModule {
    const { config } = options;
    // The worker's settings as the service config read them; defaults where a config predates them.
    const workerConfig = decisionWorkerConfigSchema.parse(config);
    const artifacts = options.artifacts ?? currentArtifacts;
    const model =
      config.OPENAI_MODEL && config.OPENAI_API_KEY
        ? new OpenAiChatModel({
            baseURL: config.OPENAI_BASE_URL,
            apiKey: config.OPENAI_API_KEY,
            model: config.OPENAI_MODEL,
            policy: artifacts.agentPolicy,
          })
        : undefined;
    const knowledge = config.RETRIEVAL_URL
      ? new RetrievalKnowledgeSearch({
          baseUrl: config.RETRIEVAL_URL,
          timeoutMs: config.RETRIEVAL_TIMEOUT_MS,
        })
      : noRetrieval;
    return {
      module: DecisioningModule,
      controllers: [DecisioningInboxController],
      providers: [
        { provide: MODEL, useValue: model },
        ModelLifecycle,
        {
          provide: CaseMemoryRepository,
          inject: [PortCallTimer],
          // Every port call is timed in keel_port_call_duration_seconds{port,method,outcome}.
          useFactory: (timer: PortCallTimer) =>
            timer.wrap('case-memory', new CaseMemoryRepository(options.schema)),
        },
        {
          provide: DecisionQueueRepository,
          inject: [PortCallTimer],
          useFactory: (timer: PortCallTimer) =>
            timer.wrap('decision-queue', new DecisionQueueRepository(options.schema)),
        },
        {
          provide: DecideUseCase,
          inject: [TOPICS, PortCallTimer, DataSource, CaseMemoryRepository, DecisionQueueRepository],
          useFactory: (
            topics: Topics,
            timer: PortCallTimer,
            dataSource: DataSource,
            caseMemory: CaseMemoryRepository,
          ) =>
            new DecideUseCase({
              artifacts,
              knowledge: timer.wrap('knowledge', knowledge),
              ...(model ? { model: timer.wrap('model', model) } : {}),
              // Outside any transaction: a single statement on the pool.
              history: {
                eventsOf: (trigger, limit) =>
                  caseMemory.historyOf(
                    dataSource.manager,
                    trigger.tenant,
                    trigger.caseId,
                    limit,
                    // Beyond the prefetched history only a model asks; it reads the case as of now.
                    '9223372036854775807',
                  ),
              },
              topics,
              source: options.source,
              clock: () => performance.now(),
              now: () => new Date(),
            }),
        },
        {
          provide: DecisionPublisher,
          inject: [DataSource, CaseMemoryRepository, DecisionQueueRepository, OutboxWriter, TOPICS],
          useFactory: (
            dataSource: DataSource,
            caseMemory: CaseMemoryRepository,
            queue: DecisionQueueRepository,
            outbox: OutboxWriter,
            topics: Topics,
          ) => new DecisionPublisher(dataSource, caseMemory, queue, outbox, topics),
        },
        {
          provide: DecisionWorker,
          inject: [DataSource, DecisionQueueRepository, DecideUseCase, DecisionPublisher, METRICS_REGISTRY],
          useFactory: (
            dataSource: DataSource,
            queue: DecisionQueueRepository,
            decide: DecideUseCase,
            publisher: DecisionPublisher,
            registry: Registry,
          ) => {
            const logger = new Logger('DecisionWorker');
            const metrics = createDecisioningMetrics(registry, () => queue.depth(dataSource.manager));
            const worker: DecisionWorker = new DecisionWorker({
              queue: {
                pending: (limit, excluding, historyLimit) =>
                  queue.pending(dataSource.manager, limit, excluding, historyLimit),
                markFailed: (decisionId, error) => queue.markFailed(dataSource.manager, decisionId, error),
              },
              leadership: new DecisionQueueLeadership(dataSource, queue.channel, {
                onNotify: () => worker.nudge(),
                onLost: (error) =>
                  logger.warn('decision queue lock lost; trying to lead again', { error: String(error) }),
              }),
              decide: (pending) => decide.execute(pending),
              publish: (outcomes) => publisher.publish(outcomes),
              historyLimit: () => artifacts.agentPolicy.caseHistory.limit,
              maxInFlight: workerConfig.DECISIONING_MAX_IN_FLIGHT,
              pollMs: workerConfig.DECISIONING_QUEUE_POLL_MS,
              maxAttempts: workerConfig.DECISIONING_MAX_ATTEMPTS,
              now: () => Date.now(),
              onPublished: (outcomes) => metrics.published(outcomes.map((outcome) => outcome.record)),
              logger: {
                warn: (message, fields) => logger.warn(message, fields),
                error: (message, fields) => logger.error(message, fields),
              },
            });
            return worker;
          },
        },
        DecisionWorkerLifecycle,
      ],
    };
  }
}
