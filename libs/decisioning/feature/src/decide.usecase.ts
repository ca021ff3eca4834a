import { type CloudEvent, type DecisionRecord, type TopicData, buildEvent } from '@keel/contracts';
import {
  type CaseHistory,
  type ChatModel,
  DecisionAgent,
  type KnowledgeSearch,
  type MonotonicClock,
} from '@keel/decisioning-agent';
import { type DecisionArtifacts, workflowAnswerOf } from '@keel/decisioning-domain';
import { type Topics } from '@keel/messaging';
import { type PendingTrigger } from './persistence/decision-queue.repository';

export interface DecideDeps {
  readonly artifacts: DecisionArtifacts;
  readonly knowledge: KnowledgeSearch;
  readonly model?: ChatModel;
  /** The case history beyond what the queue prefetched (a model asking for more than the policy's limit). */
  readonly history: CaseHistory;
  readonly topics: Topics;
  /** CloudEvents `source` of what the service emits. */
  readonly source: string;
  readonly clock: MonotonicClock;
  readonly now: () => Date;
}

/** A decision and what publishing it means: the record, and the signal answering a waiting workflow step. */
export interface DecisionOutcome {
  readonly decisionId: string;
  readonly tenant: string;
  readonly record: DecisionRecord;
  readonly decisions: ReadonlyArray<CloudEvent<TopicData<Topics['decisions']>>>;
  readonly workflowCommands: ReadonlyArray<CloudEvent<TopicData<Topics['workflowCommands']>>>;
}

/**
 * One decision, outside any transaction: the agent runs over the case history as of the trigger's place in the
 * memory (prefetched with the queue), the model and retrieval as configured. Nothing is written here: the
 * worker publishes the outcome, once per trigger. Deciding again — after a crash — is harmless: the decision id
 * derives from the trigger, and only the first outcome stored is published.
 */
export class DecideUseCase {
  constructor(private readonly deps: DecideDeps) {}

  async execute(pending: PendingTrigger): Promise<DecisionOutcome> {
    const { topics } = this.deps;
    const { trigger, envelope } = pending;
    const history: CaseHistory = {
      eventsOf: (of, limit) =>
        limit === pending.historyLimit
          ? Promise.resolve(pending.history)
          : this.deps.history.eventsOf(of, limit),
    };
    const agent = new DecisionAgent({
      artifacts: this.deps.artifacts,
      knowledge: this.deps.knowledge,
      history,
      clock: this.deps.clock,
      ...(this.deps.model ? { model: this.deps.model } : {}),
    });
    const record = await agent.decide(trigger);
    const common = {
      source: this.deps.source,
      time: this.deps.now().toISOString(),
      subject: record.caseId,
      tenant: envelope.tenant,
      correlationid: envelope.correlationid,
      causationid: envelope.id,
    };
    const decisions = [
      buildEvent(topics.decisions, {
        ...common,
        id: record.decisionId,
        type: 'keel.decision.made',
        idempotencykey: record.decisionId,
        data: record,
      }),
    ];
    const answer = workflowAnswerOf(record);
    const workflowCommands = [];
    if (answer) {
      const id = `${record.decisionId}/signal`;
      workflowCommands.push(
        buildEvent(topics.workflowCommands, {
          ...common,
          id,
          type: 'keel.workflow.requested',
          idempotencykey: id,
          data: {
            command: 'signal' as const,
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
      );
    }
    return { decisionId: pending.decisionId, tenant: trigger.tenant, record, decisions, workflowCommands };
  }
}
