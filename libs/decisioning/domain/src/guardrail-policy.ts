import { type DecisionRecord } from '@keel/contracts';
import { LogicEngine } from 'json-logic-engine';
import { z } from 'zod';
import { type DecisionTrigger, type JsonObject, eventTypeOf, subjectOf } from './decision-trigger';
import { DecisioningDomainError } from './decisioning-domain.error';
import { type ActionProposal, type ToolName, actionTools, toolNames } from './tool-catalogue';

export type Risk = DecisionRecord['risk'];

/** One rule as evaluated: the values it read and its result. */
export type RuleEvaluation = NonNullable<DecisionRecord['rulesEvaluated']>[number];

/**
 * The only JSON Logic operators a rule may use: comparisons, boolean logic, membership and arithmetic. No
 * iteration, no string building, no custom operators, so every rule terminates and reads only its inputs.
 */
const allowedOperators = new Set([
  'var',
  '==',
  '===',
  '!=',
  '!==',
  '<',
  '<=',
  '>',
  '>=',
  'and',
  'or',
  '!',
  '!!',
  'in',
  'if',
  '+',
  '-',
  '*',
  '/',
  'min',
  'max',
]);

/** What a rule can see. Case data reaches it only as the typed impact figures; retrieved text never does. */
const ruleInputRoots = ['decision', 'impact', 'trigger'] as const;

const pathSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/, 'a dotted attribute path');
const toolNameSchema = z.enum(toolNames as [ToolName, ...ToolName[]]);

const approvalRuleSchema = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/),
  description: z.string().min(1),
  /** The risk a decision carries when the rule fires; it then needs a person's approval. */
  risk: z.enum(['medium', 'high']),
  /** The actions the rule is about; for the others it does not fire. */
  tools: z.array(z.enum(actionTools)).min(1),
  /** A JSON Logic predicate over the rule inputs. */
  when: z.unknown().superRefine((logic, context) => {
    for (const problem of logicProblems(logic)) context.addIssue({ code: 'custom', message: problem });
  }),
});

export const guardrailPolicySchema = z
  .strictObject({
    name: z.string().min(1),
    version: z.number().int().min(1),
    description: z.string().min(1),
    tools: z.strictObject({
      /** Tools offered per case event type (and `workflow.decisionRequested` for workflow questions). */
      byEventType: z.record(z.string().min(1), z.array(toolNameSchema).min(1)),
      /** Tools offered for an event type the policy does not name. */
      otherwise: z.array(toolNameSchema).min(1),
    }),
    /** Where the impact figures are read from in the event attributes or the workflow's decision context. */
    impact: z.strictObject({
      amount: z.array(pathSchema),
      customerTier: z.array(pathSchema),
      /** Tier names the policy knows; any other value counts as no tier. */
      tiers: z.array(z.string().min(1)).min(1),
    }),
    approvalRules: z.array(approvalRuleSchema),
  })
  .superRefine((policy, context) => {
    // A tool the policy refuses becomes an escalation, so escalation must be possible everywhere.
    for (const [eventType, tools] of [
      ...Object.entries(policy.tools.byEventType),
      ['(otherwise)', policy.tools.otherwise] as const,
    ]) {
      if (!tools.includes('escalate'))
        context.addIssue({ code: 'custom', message: `tools for ${eventType} must include escalate` });
    }
    const ids = policy.approvalRules.map((rule) => rule.id);
    if (new Set(ids).size !== ids.length)
      context.addIssue({ code: 'custom', message: 'approval rule ids must be unique' });
  });
export type GuardrailPolicy = z.infer<typeof guardrailPolicySchema>;

/** @throws DecisioningDomainError `invalid-artifact` naming every problem. */
export function loadGuardrailPolicy(artifact: unknown): GuardrailPolicy {
  const parsed = guardrailPolicySchema.safeParse(artifact);
  if (!parsed.success) {
    throw new DecisioningDomainError(
      'invalid-artifact',
      `guardrail policy: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

/**
 * The tools a planner is offered for a trigger: the policy's list for its event type, with `answer` only for
 * workflow questions. Nothing in the event's data takes part.
 */
export function toolsOffered(policy: GuardrailPolicy, trigger: DecisionTrigger): ToolName[] {
  const eventType = eventTypeOf(trigger);
  const listed = Object.hasOwn(policy.tools.byEventType, eventType)
    ? policy.tools.byEventType[eventType]
    : policy.tools.otherwise;
  return listed.filter((tool) => tool !== 'answer' || trigger.kind === 'workflow-decision');
}

export interface GuardrailVerdict {
  /** Whether the proposed tool is one the policy offers for the trigger. */
  readonly toolAllowed: boolean;
  readonly requiresApproval: boolean;
  readonly risk: Risk;
  /** Every rule in policy order: the values it read and its result. */
  readonly trace: RuleEvaluation[];
}

const engine = new LogicEngine(undefined, { maxDepth: 32, maxArrayLength: 1000, maxStringLength: 10_000 });

/**
 * Evaluates a proposal under the policy. Pure: the same policy, trigger and proposal give the same verdict.
 * Thresholds are constants in the rules; the trigger contributes only its type and two impact figures.
 */
export function evaluateGuardrails(
  policy: GuardrailPolicy,
  trigger: DecisionTrigger,
  proposal: ActionProposal,
): GuardrailVerdict {
  const offered = toolsOffered(policy, trigger);
  const toolAllowed = offered.includes(proposal.tool);
  const trace: RuleEvaluation[] = [
    {
      rule: 'tool-offered',
      inputs: { eventType: eventTypeOf(trigger), tool: proposal.tool, offered },
      result: toolAllowed,
    },
  ];
  const inputs = ruleInputs(policy, trigger, proposal);
  let risk: Risk = 'low';
  for (const rule of policy.approvalRules) {
    const applies = rule.tools.includes(proposal.tool);
    const read = Object.fromEntries(
      variablesOf(rule.when).map((path) => [path, valueAt(inputs, path) ?? null]),
    );
    const fired = applies && Boolean(engine.truthy(engine.run(rule.when, inputs)));
    trace.push({ rule: rule.id, inputs: { tool: proposal.tool, ...read }, result: fired });
    if (fired) risk = higher(risk, rule.risk);
  }
  return { toolAllowed, requiresApproval: risk !== 'low', risk, trace };
}

function ruleInputs(policy: GuardrailPolicy, trigger: DecisionTrigger, proposal: ActionProposal): JsonObject {
  const subject = subjectOf(trigger);
  const amount = firstValue(subject, policy.impact.amount);
  const tier = firstValue(subject, policy.impact.customerTier);
  return {
    decision: { tool: proposal.tool, arguments: proposal.arguments, confidence: proposal.confidence },
    impact: {
      amount: typeof amount === 'number' && Number.isFinite(amount) ? amount : null,
      customerTier: typeof tier === 'string' && policy.impact.tiers.includes(tier) ? tier : null,
    },
    trigger: {
      kind: trigger.kind,
      eventType: eventTypeOf(trigger),
      caseType: trigger.kind === 'case-event' ? trigger.caseType : null,
      template: trigger.kind === 'workflow-decision' ? trigger.template : null,
      stepId: trigger.kind === 'workflow-decision' ? trigger.stepId : null,
    },
  };
}

function higher(a: Risk, b: Risk): Risk {
  const order: Risk[] = ['low', 'medium', 'high'];
  return order.indexOf(a) >= order.indexOf(b) ? a : b;
}

function firstValue(subject: JsonObject, paths: readonly string[]): unknown {
  for (const path of paths) {
    const value = valueAt(subject, path);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** Own properties only: a path like `constructor` must not reach into the prototype. */
function valueAt(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function variablesOf(logic: unknown): string[] {
  const found = new Set<string>();
  walk(logic, (operator, args) => {
    if (operator !== 'var') return;
    const path = varPath(args);
    if (typeof path === 'string') found.add(path);
  });
  return [...found];
}

function logicProblems(logic: unknown): string[] {
  const problems: string[] = [];
  walk(logic, (operator, args) => {
    if (!allowedOperators.has(operator))
      problems.push(`operator '${operator}' is not allowed in a guardrail rule`);
    if (operator !== 'var') return;
    const path = varPath(args);
    if (
      typeof path !== 'string' ||
      !ruleInputRoots.some((root) => path === root || path.startsWith(`${root}.`))
    ) {
      problems.push(`var ${JSON.stringify(path)} must start with one of ${ruleInputRoots.join(', ')}`);
    }
  });
  return problems;
}

/** `{"var": "a.b"}` or `{"var": ["a.b", fallback]}`. */
function varPath(args: unknown): unknown {
  return Array.isArray(args) ? (args as unknown[])[0] : args;
}

/** Visits every operation of a JSON Logic tree: objects with one key are operations, the rest is data. */
function walk(logic: unknown, visit: (operator: string, args: unknown) => void): void {
  if (Array.isArray(logic)) {
    for (const item of logic) walk(item, visit);
    return;
  }
  if (typeof logic !== 'object' || logic === null) return;
  const keys = Object.keys(logic);
  if (keys.length !== 1) {
    visit(keys.length === 0 ? '{}' : keys.join('+'), undefined);
    return;
  }
  const operator = keys[0];
  const args = (logic as Record<string, unknown>)[operator];
  visit(operator, args);
  walk(args, visit);
}
