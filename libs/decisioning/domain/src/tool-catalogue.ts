import { type DecisionTool } from '@keel/contracts';
import { z } from 'zod';
import { type DecisionTrigger, type JsonObject } from './decision-trigger';
import { DecisioningDomainError } from './decisioning-domain.error';

/** Tools that gather context; the agent may call them several times before it acts. */
export const lookupTools = ['search_knowledge', 'get_case_history'] as const;
export type LookupTool = (typeof lookupTools)[number];

/** Tools that end the decision: each one is a decision record's action. */
export const actionTools = [
  'start_workflow',
  'route',
  'escalate',
  'request_info',
  'answer',
  'no_op',
] as const satisfies readonly DecisionTool[];
export type ActionTool = (typeof actionTools)[number];

export type ToolName = LookupTool | ActionTool;
export const toolNames: readonly ToolName[] = [...lookupTools, ...actionTools];

export function isToolName(name: string): name is ToolName {
  return (toolNames as readonly string[]).includes(name);
}

export function isLookupTool(name: ToolName): name is LookupTool {
  return (lookupTools as readonly string[]).includes(name);
}

/** A context-gathering call, with the arguments it was validated to carry. */
export type LookupCall =
  | { readonly tool: 'search_knowledge'; readonly arguments: { readonly query: string } }
  | { readonly tool: 'get_case_history'; readonly arguments: Record<string, never> };

/** The action a planner proposes, before guardrails decide whether a person must approve it. */
export interface ActionProposal {
  readonly tool: ActionTool;
  readonly arguments: JsonObject;
  readonly rationale: string;
  readonly confidence: number;
}

export type ProposedCall = LookupCall | ActionProposal;

const justification = {
  rationale: z
    .string()
    .min(1)
    .max(2000)
    .describe('Why this action, citing the case data and knowledge used.'),
  confidence: z.number().min(0).max(1).describe('How sure you are, from 0 to 1.'),
};

const argumentSchemas = {
  search_knowledge: z.strictObject({ query: z.string().min(1).max(500).describe('What to look up.') }),
  get_case_history: z.strictObject({}),
  // Strict tool schemas allow no free-form objects, so the workflow input travels as a JSON document.
  start_workflow: z.strictObject({
    template: z.string().min(1).max(200).describe('Workflow template name.'),
    input: z.string().min(2).max(20_000).describe('The workflow input: a JSON object, as a string.'),
    ...justification,
  }),
  route: z.strictObject({
    queue: z.string().min(1).max(100).describe('Queue to route the case to.'),
    ...justification,
  }),
  escalate: z.strictObject({
    reason: z.string().min(1).max(1000).describe('What a person must look at.'),
    ...justification,
  }),
  request_info: z.strictObject({
    fields: z.array(z.string().min(1).max(100)).min(1).max(20).describe('The case fields that are missing.'),
    message: z.string().min(1).max(1000).describe('What to ask the requester.'),
    ...justification,
  }),
  answer: z.strictObject({
    option: z.string().min(1).max(200).describe('One of the offered options.'),
    ...justification,
  }),
  no_op: z.strictObject({ ...justification }),
} satisfies Record<ToolName, z.ZodObject>;

const descriptions: Record<ToolName, string> = {
  search_knowledge: 'Search the knowledge base; returns chunks with document id, version and hash.',
  get_case_history: "Return the case's earlier events, oldest first.",
  start_workflow: 'Start a workflow template for the case.',
  route: 'Route the case to a work queue.',
  escalate: 'Hand the case to a person.',
  request_info: 'Ask for information the case is missing.',
  answer: "Answer the workflow's question with one of its options.",
  no_op: 'Do nothing: the event needs no action.',
};

/** A tool as offered to a planner: name, description and a strict JSON schema of its arguments. */
export interface ToolDefinition {
  readonly name: ToolName;
  readonly description: string;
  readonly parameters: JsonObject;
}

/**
 * The definitions of `offered`, in the order given. Only the `answer` tool depends on the trigger: its option
 * list is the workflow step's own, which comes from the definition, never from case data.
 */
export function toolDefinitions(offered: readonly ToolName[], trigger: DecisionTrigger): ToolDefinition[] {
  return offered.map((name) => {
    const { $schema: _ignored, ...parameters } = z.toJSONSchema(schemaOf(name, trigger)) as JsonObject;
    return { name, description: descriptions[name], parameters };
  });
}

function schemaOf(name: ToolName, trigger: DecisionTrigger): z.ZodObject {
  const options = trigger.kind === 'workflow-decision' ? trigger.options : null;
  if (name === 'answer' && options !== null && options.length > 0) {
    return argumentSchemas.answer.extend({ option: z.enum(options as [string, ...string[]]) });
  }
  return argumentSchemas[name];
}

/**
 * Validates a tool call a planner produced (a model's, as raw JSON text) against the tools offered.
 *
 * @throws DecisioningDomainError `unknown-tool`, `tool-not-offered` or `invalid-arguments`.
 */
export function parseToolCall(
  name: string,
  argumentsJson: string,
  offered: readonly ToolName[],
  trigger: DecisionTrigger,
): ProposedCall {
  if (!isToolName(name)) throw new DecisioningDomainError('unknown-tool', `no tool named '${name}'`);
  if (!offered.includes(name)) {
    throw new DecisioningDomainError('tool-not-offered', `tool '${name}' is not offered for this event`);
  }
  const parsed = schemaOf(name, trigger).safeParse(parseJson(argumentsJson, `arguments of ${name}`));
  if (!parsed.success) {
    throw new DecisioningDomainError(
      'invalid-arguments',
      `arguments of ${name}: ${z.prettifyError(parsed.error)}`,
    );
  }
  return toProposedCall(name, parsed.data);
}

function toProposedCall(name: ToolName, args: Record<string, unknown>): ProposedCall {
  switch (name) {
    case 'search_knowledge':
      return { tool: name, arguments: { query: String(args.query) } };
    case 'get_case_history':
      return { tool: name, arguments: {} };
    case 'start_workflow': {
      const { rationale, confidence, template, input } = args as z.infer<
        typeof argumentSchemas.start_workflow
      >;
      const decoded = parseJson(input, 'start_workflow input');
      if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
        throw new DecisioningDomainError('invalid-arguments', 'start_workflow input must be a JSON object');
      }
      return { tool: name, arguments: { template, input: decoded }, rationale, confidence };
    }
    case 'route':
    case 'escalate':
    case 'request_info':
    case 'answer':
    case 'no_op': {
      const { rationale, confidence, ...rest } = args as { rationale: string; confidence: number };
      return { tool: name, arguments: rest, rationale, confidence };
    }
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DecisioningDomainError('invalid-arguments', `${what} is not valid JSON`);
  }
}
