import type { DecisionRecord } from '@keel/contracts';

/** A decision the workflow service carries out on its own: which template to start, with what input. */
export interface WorkflowStart {
  readonly acted: true;
  readonly template: string;
  /** Omitted: the version in force. */
  readonly templateVersion?: number;
  readonly input: Readonly<Record<string, unknown>>;
}

/** Why a decision starts nothing by itself. */
export type NotActedOnReason =
  /** Shadow decisions are recorded and compared, never acted on. */
  | 'shadow'
  /** A person must approve first; governance starts it (a `start` command) once approved. */
  | 'held-for-approval'
  /** Routes, escalations, requests for information and no-ops need no workflow. */
  | 'not-a-workflow';

export interface NotActedOn {
  readonly acted: false;
  readonly reason: NotActedOnReason;
}

/** A `start_workflow` decision whose arguments cannot start anything: it can never succeed. */
export class InvalidWorkflowDecisionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidWorkflowDecisionError';
  }
}

/**
 * Which decisions start a workflow without a person: production `start_workflow` decisions that need no
 * approval. The workflow service acts on the answer; governance asks the same question of a held decision
 * after approval (with `approved: true`), so both sides agree on what "acted on" means.
 *
 * @throws InvalidWorkflowDecisionError when a decision that would be acted on names no template or carries an
 *   input that is not an object.
 */
export function workflowStartOf(
  decision: Pick<DecisionRecord, 'mode' | 'requiresApproval' | 'action' | 'caseId'>,
  { approved = false }: { readonly approved?: boolean } = {},
): WorkflowStart | NotActedOn {
  if (decision.mode !== 'production') return { acted: false, reason: 'shadow' };
  if (decision.action.tool !== 'start_workflow') return { acted: false, reason: 'not-a-workflow' };
  if (decision.requiresApproval && !approved) return { acted: false, reason: 'held-for-approval' };
  const { template, templateVersion, input = {} } = decision.action.arguments;
  if (typeof template !== 'string' || template === '')
    throw new InvalidWorkflowDecisionError('start_workflow decision without a template name');
  if (templateVersion !== undefined && !(Number.isInteger(templateVersion) && Number(templateVersion) >= 1))
    throw new InvalidWorkflowDecisionError(
      `templateVersion must be a positive integer, got ${JSON.stringify(templateVersion)}`,
    );
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new InvalidWorkflowDecisionError('start_workflow input must be an object');
  return {
    acted: true,
    template,
    ...(typeof templateVersion === 'number' ? { templateVersion } : {}),
    // The case travels with the input so the workflow's steps can name it.
    input: { ...input, caseId: decision.caseId },
  };
}
