/** Why a definition was refused, per problem. */
export const DefinitionProblemCode = {
  /** YAML/JSON text could not be parsed. */
  Syntax: 'syntax',
  /** The same key (e.g. a step id) appears twice in one mapping of the text. */
  DuplicateKey: 'duplicate-key',
  /** The same step id is used in two scopes (e.g. two parallel branches), or twice through the builder. */
  DuplicateStep: 'duplicate-step',
  /** Structure, type or value outside the schema. */
  Schema: 'schema',
  /** `start` names no step of its scope. */
  MissingStart: 'missing-start',
  /** A transition target names no step. */
  UnknownStep: 'unknown-step',
  /** A transition target is a step of another parallel branch or of the enclosing flow. */
  ScopeViolation: 'scope-violation',
  /** A step cannot be reached from its scope's start. */
  UnreachableStep: 'unreachable-step',
  /** A strongly connected set of steps from which no `end` can be reached. */
  CycleWithoutExit: 'cycle-without-exit',
  /** A cycle made only of choice steps, which would loop without ever waiting. */
  BusyCycle: 'busy-cycle',
  /** A JSONata expression or `{{ }}` template that does not compile. */
  ExpressionSyntax: 'expression-syntax',
  /** An expression using a function the engine refuses (`$random`, `$eval`) or a step that does not exist. */
  ExpressionReference: 'expression-reference',
  /** A field combination the schema alone cannot express (e.g. escalation without a target role). */
  InvalidStep: 'invalid-step',
  /** `schedule.cron` does not parse. */
  InvalidSchedule: 'invalid-schedule',
} as const;

export type DefinitionProblemCode = (typeof DefinitionProblemCode)[keyof typeof DefinitionProblemCode];

/** One thing wrong with a definition. */
export interface DefinitionProblem {
  readonly code: DefinitionProblemCode;
  /** Location in the data, e.g. `steps.fanOut.branches[0].steps.confirm.next`. */
  readonly path: string;
  /** Complete sentence naming the step and field, e.g. `step 'confirm'.next refers to unknown step 'confrm'`. */
  readonly message: string;
}

/** Top-level reason of a `WorkflowDefinitionError`. */
export const WorkflowDefinitionErrorCode = {
  /** The text is not YAML/JSON. */
  Unparseable: 'unparseable',
  /** The data parsed but breaks the schema or a semantic rule. */
  Invalid: 'invalid',
} as const;

export type WorkflowDefinitionErrorCode =
  (typeof WorkflowDefinitionErrorCode)[keyof typeof WorkflowDefinitionErrorCode];

/** Thrown by `loadDefinition` and the builder with every problem found, not just the first. */
export class WorkflowDefinitionError extends Error {
  constructor(
    readonly code: WorkflowDefinitionErrorCode,
    readonly problems: readonly DefinitionProblem[],
    subject = 'workflow definition',
  ) {
    super(`invalid ${subject}:\n${problems.map((problem) => `  - ${problem.message}`).join('\n')}`);
    this.name = 'WorkflowDefinitionError';
  }
}
