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
import { type DynamicModule, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { DecisioningInboxController } from './consumers/decisioning-inbox.controller';
import { DecideUseCase } from './decide.usecase';
import { type DecisioningConfig } from './decisioning.config';
import { createDecisioningMetrics } from './decisioning.metrics';
import { CaseMemoryRepository } from './persistence/case-memory.repository';

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

/**
 * The decisioning service's feature: the Kafka inbox (case events, workflow decision requests), the agent on
 * the configured model or the offline planner, retrieval, and the case memory. Needs the chassis modules.
 */
@Module({})
export class DecisioningModule {
  static forRoot(options: DecisioningModuleOptions): DynamicModule {
    const { config } = options;
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
          provide: DecideUseCase,
          inject: [OutboxWriter, TOPICS, METRICS_REGISTRY, PortCallTimer],
          useFactory: (outbox: OutboxWriter, topics: Topics, registry: Registry, timer: PortCallTimer) =>
            new DecideUseCase({
              artifacts,
              // Every port call is timed in keel_port_call_duration_seconds{port,method,outcome}.
              knowledge: timer.wrap('knowledge', knowledge),
              ...(model ? { model: timer.wrap('model', model) } : {}),
              repository: timer.wrap('case-memory', new CaseMemoryRepository(options.schema)),
              outbox,
              topics,
              source: options.source,
              clock: () => performance.now(),
              now: () => new Date(),
              metrics: createDecisioningMetrics(registry),
            }),
        },
      ],
    };
  }
}
