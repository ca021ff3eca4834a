import { type DecisionRecord, decisionRecordSchema } from '@keel/contracts';
import { type DecisionArtifacts, artifactRef } from './artifacts';
import { type DecisionTrigger, eventTypeOf } from './decision-trigger';
import { evaluateGuardrails } from './guardrail-policy';
import { type Observation, chunksIn, historyIn } from './observation';
import { type ActionProposal } from './tool-catalogue';

/** One model call as recorded: request and response (or failure), stored with their sha-256. */
export type ModelExchange = NonNullable<DecisionRecord['replay']>['exchange'][number];

/** Everything one decision run produced or consumed, clock readings and model exchange included. */
export interface DecisionRun {
  /** One id per trigger (the adapter derives it), so a redelivered event yields the same decision. */
  readonly decisionId: string;
  readonly trigger: DecisionTrigger;
  readonly proposal: ActionProposal;
  readonly planner: 'offline' | 'model';
  /** Set when the offline planner decided although a model was configured. */
  readonly fallbackReason?: string;
  readonly observations: readonly Observation[];
  readonly exchange: readonly ModelExchange[];
  /** Milliseconds since the run started, each time the runtime read its clock; the last is the latency. */
  readonly clockReadings: readonly number[];
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number };
  /** The model asked, or the offline planner's version when none was. */
  readonly model: string;
}

/**
 * Builds the decision record of a run under the artifacts: the guardrail verdict decides whether a person must
 * approve, and a tool the policy refuses becomes an escalation. Pure: same run, same bytes.
 */
export function buildDecisionRecord(run: DecisionRun, artifacts: DecisionArtifacts): DecisionRecord {
  const { trigger, proposal } = run;
  const verdict = evaluateGuardrails(artifacts.guardrailPolicy, trigger, proposal);
  const action = verdict.toolAllowed
    ? { tool: proposal.tool, arguments: proposal.arguments }
    : {
        tool: 'escalate' as const,
        arguments: { reason: `tool ${proposal.tool} is not allowed for ${eventTypeOf(trigger)}` },
      };
  const rationale = verdict.toolAllowed
    ? proposal.rationale
    : `Guardrails refused ${proposal.tool}; a person decides. Proposed: ${proposal.rationale}`;
  const { pricing } = artifacts.agentPolicy;
  const usd =
    (run.usage.promptTokens * pricing.promptUsdPerMillionTokens +
      run.usage.completionTokens * pricing.completionUsdPerMillionTokens) /
    1_000_000;
  const record: DecisionRecord = {
    decisionId: run.decisionId,
    caseId: trigger.caseId,
    action,
    rationale: rationale.slice(0, 4000),
    confidence: proposal.confidence,
    risk: verdict.toolAllowed ? verdict.risk : 'high',
    requiresApproval: verdict.toolAllowed && verdict.requiresApproval,
    mode: artifacts.agentPolicy.mode,
    inputs: {
      eventIds: [...new Set([trigger.eventId, ...historyIn(run.observations).map((event) => event.eventId)])],
      chunks: chunksIn(run.observations).map((chunk) => ({
        documentId: chunk.documentId,
        version: chunk.version,
        chunkId: chunk.chunkId,
        hash: chunk.chunkHash,
        score: chunk.score,
      })),
    },
    versions: {
      agentPolicy: artifactRef(artifacts.agentPolicy),
      prompt: artifactRef(artifacts.prompt),
      guardrailPolicy: artifactRef(artifacts.guardrailPolicy),
      model: run.model,
      ...(artifacts.release === undefined ? {} : { release: artifacts.release }),
    },
    cost: { ...run.usage, latencyMs: run.clockReadings.at(-1) ?? 0, usd },
    fallback: run.fallbackReason !== undefined,
    ...(run.fallbackReason === undefined ? {} : { fallbackReason: run.fallbackReason.slice(0, 1000) }),
    planner: run.planner,
    ...(trigger.kind === 'workflow-decision'
      ? { answers: { instanceId: trigger.instanceId, stepId: trigger.stepId, run: trigger.run } }
      : {}),
    rulesEvaluated: verdict.trace,
    replay: {
      trigger: { ...trigger },
      observations: run.observations.map((observation) => ({ ...observation })),
      exchange: [...run.exchange],
      clockReadings: [...run.clockReadings],
    },
  };
  // The record leaves the service on a validated topic: a record the contract refuses is a bug here.
  return decisionRecordSchema.parse(record);
}

/** The bytes a record is compared by: its JSON as published. */
export function recordBytes(record: DecisionRecord): string {
  return JSON.stringify(record);
}
