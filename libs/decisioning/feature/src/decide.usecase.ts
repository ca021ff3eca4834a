import { type CloudEvent, type DecisionRecord, buildEvent } from '@keel/contracts';
import {
  type CaseHistory,
  type ChatModel,
  DecisionAgent,
  type KnowledgeSearch,
  type MonotonicClock,
} from '@keel/decisioning-agent';
import { type DecisionArtifacts, type DecisionTrigger, workflowAnswerOf } from '@keel/decisioning-domain';
import { type OutboxWriter, type Topics } from '@keel/messaging';
import type { EntityManager } from 'typeorm';
import { type DecisioningMetrics } from './decisioning.metrics';
import { type CaseMemoryRepository } from './persistence/case-memory.repository';

export interface DecideDeps {
  readonly artifacts: DecisionArtifacts;
  readonly knowledge: KnowledgeSearch;
  readonly model?: ChatModel;
  readonly repository: CaseMemoryRepository;
  readonly outbox: OutboxWriter;
  readonly topics: Topics;
  /** CloudEvents `source` of what the service emits. */
  readonly source: string;
  readonly clock: MonotonicClock;
  readonly now: () => Date;
  readonly metrics?: DecisioningMetrics;
}

/** What the triggering event's envelope contributes to what the decision emits. */
export type TriggerEnvelope = Pick<CloudEvent, 'id' | 'tenant' | 'correlationid'>;

/**
 * One decision, inside the consumer's transaction: remember the case event, run the agent over the case memory,
 * keep the record, and put it — and the answer to a waiting workflow step — in the outbox. The processed-event
 * mark, the memory and the outbox rows commit together, so a redelivery decides nothing twice.
 */
export class DecideUseCase {
  constructor(private readonly deps: DecideDeps) {}

  async execute(
    manager: EntityManager,
    trigger: DecisionTrigger,
    envelope: TriggerEnvelope,
  ): Promise<DecisionRecord> {
    const { repository, outbox, topics } = this.deps;
    if (trigger.kind === 'case-event') {
      await repository.remember(manager, { ...trigger });
    }
    const history: CaseHistory = {
      eventsOf: (of, limit) => repository.historyOf(manager, of.tenant, of.caseId, limit),
    };
    const agent = new DecisionAgent({
      artifacts: this.deps.artifacts,
      knowledge: this.deps.knowledge,
      history,
      clock: this.deps.clock,
      ...(this.deps.model ? { model: this.deps.model } : {}),
    });
    const record = await agent.decide(trigger);
    await repository.saveDecision(manager, trigger.tenant, record);
    const common = {
      source: this.deps.source,
      time: this.deps.now().toISOString(),
      subject: record.caseId,
      tenant: envelope.tenant,
      correlationid: envelope.correlationid,
      causationid: envelope.id,
    };
    await outbox.enqueue(manager, topics.decisions, [
      buildEvent(topics.decisions, {
        ...common,
        id: record.decisionId,
        type: 'keel.decision.made',
        idempotencykey: record.decisionId,
        data: record,
      }),
    ]);
    const answer = workflowAnswerOf(record);
    if (answer) {
      const id = `${record.decisionId}/signal`;
      await outbox.enqueue(manager, topics.workflowCommands, [
        buildEvent(topics.workflowCommands, {
          ...common,
          id,
          type: 'keel.workflow.requested',
          idempotencykey: id,
          data: {
            command: 'signal',
            instanceId: answer.instanceId,
            signal: 'decision',
            stepId: answer.stepId,
            payload: {
              run: answer.run,
              decision: answer.decision,
              rationale: answer.rationale,
              decisionId: record.decisionId,
            },
          },
        }),
      ]);
    }
    const planner = record.planner ?? 'offline';
    this.deps.metrics?.decisions.inc({
      planner,
      tool: record.action.tool,
      fallback: String(record.fallback),
    });
    this.deps.metrics?.duration.observe({ planner }, record.cost.latencyMs / 1000);
    return record;
  }
}
