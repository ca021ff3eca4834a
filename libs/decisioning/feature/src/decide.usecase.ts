import { type CloudEvent, type DecisionRecord, type TopicData, buildEvent } from '@keel/contracts';
import {
  type CaseHistory,
  DecisionAgent,
  type KnowledgeSearch,
  type MonotonicClock,
  shadowDecisionIdOf,
} from '@keel/decisioning-agent';
import {
  type CaseHistoryEntry,
  type DecisionTrigger,
  asShadowOf,
  workflowAnswerOf,
} from '@keel/decisioning-domain';
import { type Topics } from '@keel/messaging';
import { activeTraceparent } from '@keel/tracing';
import { type PoliciesInForce, type PolicySet } from './decision-policies';
import { type PendingTrigger } from './persistence/decision-queue.repository';

export interface DecideDeps {
  /** The policies in force when a decision starts (production, and a shadow release beside it). */
  readonly policies: () => PoliciesInForce;
  readonly knowledge: KnowledgeSearch;
  /**
   * The case history as of the trigger's place in the memory, for a limit other than the one the queue
   * prefetched (a shadow policy with another limit).
   */
  readonly history: (
    trigger: DecisionTrigger,
    limit: number,
    position: string,
  ) => Promise<CaseHistoryEntry[]>;
  readonly topics: Topics;
  /** CloudEvents `source` of what the service emits. */
  readonly source: string;
  readonly clock: MonotonicClock;
  readonly now: () => Date;
  /** A shadow decision that failed: production goes on without it. */
  readonly onShadowFailed?: (error: unknown, pending: PendingTrigger) => void;
}

/**
 * A decision and what publishing it means: production's record first, then the shadow release's (if any),
 * and the signal answering a waiting workflow step (production's only).
 */
export interface DecisionOutcome {
  readonly decisionId: string;
  readonly tenant: string;
  readonly records: readonly DecisionRecord[];
  readonly decisions: ReadonlyArray<CloudEvent<TopicData<Topics['decisions']>>>;
  readonly workflowCommands: ReadonlyArray<CloudEvent<TopicData<Topics['workflowCommands']>>>;
}

/**
 * One trigger decided outside any transaction: the agent runs under the production policies over the case
 * history as of the trigger's place in the memory (prefetched with the queue), and — when a shadow release is
 * in force — again under the shadow policies, on the same trigger and history; the shadow record names
 * production's and says whether they agree, and is never acted on (no workflow signal; the workflow ignores
 * shadow records). Nothing is written here: the worker publishes the outcome, once per decision id. Deciding
 * again after a crash is harmless: the ids derive from the trigger, and only the first outcome stored is
 * published.
 */
export class DecideUseCase {
  constructor(private readonly deps: DecideDeps) {}

  async execute(pending: PendingTrigger): Promise<DecisionOutcome> {
    const { topics } = this.deps;
    const { trigger, envelope } = pending;
    // Taken once: a release switching mid-decision does not mix two releases in one outcome.
    const { production, shadow } = this.deps.policies();
    const record = await this.decideUnder(production, pending, pending.decisionId);
    const records = [record];
    if (shadow) {
      const shadowId = shadowDecisionIdOf(trigger, shadow.artifacts.release ?? 'bundled');
      try {
        records.push(asShadowOf(await this.decideUnder(shadow, pending, shadowId), record));
      } catch (error) {
        this.deps.onShadowFailed?.(error, pending);
      }
    }
    // The decision continues the trigger's trace: the worker decides in a span of it (or, outside one, the
    // trigger's own context is handed on), so the workflow it starts stays in the request's trace.
    const traceparent = activeTraceparent() ?? envelope.traceparent;
    const common = {
      source: this.deps.source,
      time: this.deps.now().toISOString(),
      subject: record.caseId,
      tenant: envelope.tenant,
      correlationid: envelope.correlationid,
      causationid: envelope.id,
      ...(traceparent ? { traceparent } : {}),
    };
    const decisions = records.map((decided) =>
      buildEvent(topics.decisions, {
        ...common,
        id: decided.decisionId,
        type: decided.mode === 'shadow' ? 'keel.decision.shadowed' : 'keel.decision.made',
        idempotencykey: decided.decisionId,
        data: decided,
      }),
    );
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
    return { decisionId: pending.decisionId, tenant: trigger.tenant, records, decisions, workflowCommands };
  }

  private decideUnder(
    policies: PolicySet,
    pending: PendingTrigger,
    decisionId: string,
  ): Promise<DecisionRecord> {
    const history: CaseHistory = {
      eventsOf: (of, limit) =>
        limit === pending.historyLimit
          ? Promise.resolve(pending.history)
          : this.deps.history(of, limit, pending.position),
    };
    const agent = new DecisionAgent({
      artifacts: policies.artifacts,
      knowledge: this.deps.knowledge,
      history,
      clock: this.deps.clock,
      ...(policies.model ? { model: policies.model } : {}),
    });
    return agent.decide(pending.trigger, { decisionId });
  }
}
