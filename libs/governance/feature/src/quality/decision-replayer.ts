import { type DecisionRecord } from '@keel/contracts';
import { DecisioningAgentError, replayUnderArtifacts } from '@keel/decisioning-agent';
import {
  type DecisionArtifacts,
  loadAgentPolicy,
  loadGuardrailPolicy,
  loadPrompt,
} from '@keel/decisioning-domain';
import { isKeelError } from '@keel/errors';
import { type ActionTaken, type DecisionOutcome, type ReplayCase } from '@keel/governance-domain';

/** A recorded production decision to rerun, with what a person made of it where known. */
export interface ReplayInput {
  readonly record: DecisionRecord;
  readonly outcome?: DecisionOutcome;
}

/** The artifacts a candidate release would decide with, and the model it names. */
export interface CandidateArtifacts {
  readonly artifacts: DecisionArtifacts;
  readonly model: string;
}

/**
 * Builds the candidate's artifacts from registry contents with decisioning's own loaders (the same ones the
 * registry validated them with).
 *
 * @throws a decisioning `invalid-artifact` error for content its loader refuses.
 */
export function candidateArtifactsOf(
  content: { agentPolicy: unknown; prompt: unknown; guardrailPolicy: unknown },
  model: string,
): CandidateArtifacts {
  return {
    artifacts: {
      agentPolicy: loadAgentPolicy(content.agentPolicy),
      prompt: loadPrompt(content.prompt),
      guardrailPolicy: loadGuardrailPolicy(content.guardrailPolicy),
    },
    model,
  };
}

export function actionOf(record: DecisionRecord): ActionTaken {
  return {
    tool: record.action.tool,
    arguments: record.action.arguments,
    requiresApproval: record.requiresApproval,
  };
}

/**
 * Reruns each recorded decision under the candidate with decisioning's replay (recorded model exchange,
 * lookups and clock; no model or retrieval is called). A decision the candidate cannot be judged on — made
 * with another model, without a replay section, or asking something the record does not hold — is `diverged`
 * with a reason that names the kind of divergence, not the decision, so reasons can be counted.
 */
export async function replayRecorded(
  inputs: readonly ReplayInput[],
  candidate: CandidateArtifacts,
): Promise<ReplayCase[]> {
  const cases: ReplayCase[] = [];
  for (const input of inputs) {
    const { record } = input;
    const base = {
      decisionId: record.decisionId,
      caseId: record.caseId,
      production: actionOf(record),
      ...(input.outcome === undefined ? {} : { outcome: input.outcome }),
    };
    if (record.replay === undefined) {
      cases.push({ ...base, kind: 'diverged', reason: 'recorded without a replay section' });
      continue;
    }
    if (record.versions.model !== candidate.model) {
      cases.push({
        ...base,
        kind: 'diverged',
        reason: 'recorded under another model than the candidate names',
      });
      continue;
    }
    try {
      const replayed = await replayUnderArtifacts(record, candidate.artifacts);
      cases.push({ ...base, kind: 'replayed', candidate: actionOf(replayed) });
    } catch (error) {
      if (!isKeelError(error)) throw error;
      cases.push({ ...base, kind: 'diverged', reason: divergenceOf(error) });
    }
  }
  return cases;
}

/** `model request 2 differs from the recorded one (ab12…)` → `model request n differs from the recorded one`. */
function divergenceOf(error: Error & { code: string }): string {
  if (!(error instanceof DecisioningAgentError) || error.code !== 'replay-diverged') {
    return `the candidate failed on the recorded inputs (${error.code})`;
  }
  return error.message
    .replace(/\s*\([0-9a-f]{64}\)/g, '')
    .replace(/\b\d+\b/g, 'n')
    .trim();
}
