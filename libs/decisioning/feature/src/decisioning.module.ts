import { AccessTokenSigner } from '@keel/access';
import {
  type ChatModel,
  type KnowledgeSearch,
  DecisioningAgentError,
  OpenAiChatModel,
  RetrievalKnowledgeSearch,
  SharedKnowledgeSearches,
} from '@keel/decisioning-agent';
import { type AgentPolicy, type DecisionArtifacts, currentArtifacts } from '@keel/decisioning-domain';
import { OutboxWriter, TOPICS, type Topics } from '@keel/messaging';
import { ShardLeases } from '@keel/persistence';
import { CurrentRelease, ReleaseAppliers } from '@keel/releases';
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
  Optional,
} from '@nestjs/common';
import type { Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { DecisioningInboxController } from './consumers/decisioning-inbox.controller';
import { DecideUseCase } from './decide.usecase';
import { DecisionPolicies } from './decision-policies';
import { DecisionPublisher } from './decision-publisher';
import { DecisionWorker } from './decision-worker';
import { type DecisionWorkerConfig, decisionWorkerConfigSchema } from './decision-worker.config';
import { type DecisioningConfig } from './decisioning.config';
import { createDecisioningMetrics } from './decisioning.metrics';
import { CaseMemoryRepository } from './persistence/case-memory.repository';
import { DecisionQueueCommits } from './persistence/decision-queue.commits';
import { DecisionQueueRepository, decisionQueueShards } from './persistence/decision-queue.repository';

export interface DecisioningModuleOptions {
  readonly config: DecisioningConfig & Partial<DecisionWorkerConfig>;
  /** The service's Postgres schema. */
  readonly schema: string;
  /** CloudEvents `source` of what the service emits. */
  readonly source: string;
  readonly artifacts?: DecisionArtifacts;
}

/** Without retrieval configured the agent decides without knowledge, and each record shows the lookup failed. */
const noRetrieval: KnowledgeSearch = {
  search: () =>
    Promise.reject(new DecisioningAgentError('knowledge-unavailable', 'retrieval is not configured')),
};

/**
 * The chat models decisions run on, one per model id and agent policy bounds (the breaker and the SDK's
 * retries come from the policy), created when a release first names them and shut down when none is in force.
 */
class ChatModels {
  private readonly models = new Map<string, ChatModel>();

  constructor(private readonly create: ((modelId: string, policy: AgentPolicy) => ChatModel) | undefined) {}

  get(modelId: string, policy: AgentPolicy): ChatModel | undefined {
    if (!this.create) return undefined;
    const key = JSON.stringify([modelId, policy.limits, policy.breaker]);
    let model = this.models.get(key);
    if (!model) {
      model = this.create(modelId, policy);
      this.models.set(key, model);
    }
    return model;
  }

  retire(retired: readonly ChatModel[]): void {
    for (const [key, model] of this.models) {
      if (!retired.includes(model)) continue;
      this.models.delete(key);
      shutDown(model);
    }
  }

  shutdown(): void {
    for (const model of this.models.values()) shutDown(model);
    this.models.clear();
  }
}

// A timed model is a proxy of the OpenAiChatModel: instanceof and its methods pass through.
function shutDown(model: ChatModel): void {
  if (model instanceof OpenAiChatModel) model.shutdown();
}

@Injectable()
class ModelLifecycle implements OnApplicationShutdown {
  constructor(@Inject(ChatModels) private readonly models: ChatModels) {}

  onApplicationShutdown(): void {
    this.models.shutdown();
  }
}

/**
 * Follows the releases in force (every replica, whichever consumed the release) and drains the decision queue
 * for the application's lifetime; the worker stops before the data source closes.
 */
@Injectable()
class DecisionWorkerLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('DecisionPolicies');
  private unfollow: (() => void) | undefined;

  private readonly commits: DecisionQueueCommits;

  constructor(
    @Inject(DecisionWorker) private readonly worker: DecisionWorker,
    @Inject(DecisionPolicies) private readonly policies: DecisionPolicies,
    @Inject(DataSource) dataSource: DataSource,
    @Optional() @Inject(CurrentRelease) private readonly releases?: CurrentRelease,
    @Optional() @Inject(ReleaseAppliers) appliers?: ReleaseAppliers,
  ) {
    // Registered before the consumer starts: a release decisioning cannot run is refused (dead-lettered).
    appliers?.register(policies.applier);
    this.commits = new DecisionQueueCommits(dataSource, () => worker.nudge());
  }

  async onApplicationBootstrap(): Promise<void> {
    // The release in force is read before the first decision, so a restart resumes it without governance.
    await this.releases?.refresh();
    this.unfollow = this.releases?.onChange((inForce) => {
      try {
        this.policies.follow(inForce);
        const { production, shadow } = this.policies.current();
        this.logger.log('policies in force', {
          production: production.artifacts.release ?? 'bundled',
          shadow: shadow?.artifacts.release ?? null,
        });
      } catch (error) {
        // The applier checked it before it was recorded; keep what is in force rather than stop deciding.
        this.logger.error(`releases not followed: ${String(error)}`);
      }
    });
    this.commits.start();
    this.worker.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.unfollow?.();
    this.commits.stop();
    await this.worker.stop();
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
    const apiKey = config.OPENAI_API_KEY;
    const createModel = apiKey
      ? (modelId: string, policy: AgentPolicy): ChatModel =>
          new OpenAiChatModel({ baseURL: config.OPENAI_BASE_URL, apiKey, model: modelId, policy })
      : undefined;
    // Retrieval admits a token of the query's tenant only: one short-lived viewer token per query, signed with
    // the shared key (the config requires it with RETRIEVAL_URL).
    const signer = config.ACCESS_SHARED_KEY === undefined ? undefined : new AccessTokenSigner(config);
    const knowledge = config.RETRIEVAL_URL
      ? new RetrievalKnowledgeSearch({
          baseUrl: config.RETRIEVAL_URL,
          timeoutMs: config.RETRIEVAL_TIMEOUT_MS,
          ...(signer === undefined
            ? {}
            : {
                authorization: (tenant: string) =>
                  signer.bearer({
                    subject: 'service:decisioning',
                    tenant,
                    roles: ['viewer'],
                    ttlSeconds: 60,
                  }),
              }),
        })
      : noRetrieval;
    return {
      module: DecisioningModule,
      controllers: [DecisioningInboxController],
      providers: [
        {
          provide: ChatModels,
          inject: [PortCallTimer],
          // Every port call is timed in keel_port_call_duration_seconds{port,method,outcome}.
          useFactory: (timer: PortCallTimer) =>
            new ChatModels(
              createModel && ((modelId, policy) => timer.wrap('model', createModel(modelId, policy))),
            ),
        },
        ModelLifecycle,
        {
          provide: DecisionPolicies,
          inject: [ChatModels],
          useFactory: (models: ChatModels) => {
            const bundledModel = config.OPENAI_MODEL
              ? models.get(config.OPENAI_MODEL, artifacts.agentPolicy)
              : undefined;
            return new DecisionPolicies({
              bundled: { artifacts, ...(bundledModel ? { model: bundledModel } : {}) },
              model: (modelId, policy) => models.get(modelId, policy),
              retired: (retired) => models.retire(retired),
            });
          },
        },
        {
          provide: CaseMemoryRepository,
          inject: [PortCallTimer],
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
          inject: [TOPICS, PortCallTimer, DataSource, CaseMemoryRepository, DecisionPolicies],
          useFactory: (
            topics: Topics,
            timer: PortCallTimer,
            dataSource: DataSource,
            caseMemory: CaseMemoryRepository,
            policies: DecisionPolicies,
          ) => {
            const logger = new Logger('DecideUseCase');
            return new DecideUseCase({
              policies: () => policies.current(),
              // The port timer sees the calls made to retrieval, not the searches that shared one.
              knowledge: new SharedKnowledgeSearches(timer.wrap('knowledge', knowledge), {
                reuseMs: config.RETRIEVAL_ANSWER_REUSE_MS,
              }),
              // Outside any transaction: a single statement on the pool.
              history: (trigger, limit, position) =>
                caseMemory.historyOf(dataSource.manager, trigger.tenant, trigger.caseId, limit, position),
              topics,
              source: options.source,
              clock: () => performance.now(),
              now: () => new Date(),
              onShadowFailed: (error, pending) =>
                logger.warn('shadow decision failed; production published without it', {
                  decisionId: pending.decisionId,
                  error: String(error),
                }),
            });
          },
        },
        {
          provide: DecisionPublisher,
          inject: [DataSource, CaseMemoryRepository, OutboxWriter, TOPICS],
          useFactory: (
            dataSource: DataSource,
            caseMemory: CaseMemoryRepository,
            outbox: OutboxWriter,
            topics: Topics,
          ) => new DecisionPublisher(dataSource, caseMemory, outbox, topics),
        },
        {
          provide: DecisionWorker,
          inject: [
            DataSource,
            DecisionQueueRepository,
            DecideUseCase,
            DecisionPublisher,
            DecisionPolicies,
            METRICS_REGISTRY,
          ],
          useFactory: (
            dataSource: DataSource,
            queue: DecisionQueueRepository,
            decide: DecideUseCase,
            publisher: DecisionPublisher,
            policies: DecisionPolicies,
            registry: Registry,
          ) => {
            const logger = new Logger('DecisionWorker');
            const metrics = createDecisioningMetrics(registry, {
              queueDepth: () => queue.depth(dataSource.manager),
              shardsDecided: () => worker.decidedHere.length,
            });
            const worker: DecisionWorker = new DecisionWorker({
              queue: {
                pending: (limit, excluding, historyLimit, shards) =>
                  queue.pending(dataSource.manager, limit, excluding, historyLimit, shards),
                markFailed: (decisionId, error) => queue.markFailed(dataSource.manager, decisionId, error),
              },
              shards: new ShardLeases({
                dataSource,
                key: queue.channel,
                shards: decisionQueueShards,
                balanceEveryMs: workerConfig.DECISIONING_QUEUE_POLL_MS,
                now: () => Date.now(),
                onNotify: () => worker.nudge(),
                onLost: (error) =>
                  logger.warn('decision queue shards lost; taking them again', { error: String(error) }),
              }),
              decide: (pending) => decide.execute(pending),
              publish: (outcomes) => publisher.publish(outcomes),
              historyLimit: () => policies.current().production.artifacts.agentPolicy.caseHistory.limit,
              maxInFlight: workerConfig.DECISIONING_MAX_IN_FLIGHT,
              pollMs: workerConfig.DECISIONING_QUEUE_POLL_MS,
              maxAttempts: workerConfig.DECISIONING_MAX_ATTEMPTS,
              now: () => Date.now(),
              onPublished: (outcomes) => metrics.published(outcomes.flatMap((outcome) => outcome.records)),
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
