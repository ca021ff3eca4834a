import { z } from 'zod';
import { type JsonValue } from './json-value';

/**
 * Step ids double as JSONata field names (`steps.reserveInventory.output`), so they are restricted to
 * identifiers that need no backtick quoting.
 */
export const stepIdPattern = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Identifier of a step; unique across the whole definition, including parallel branches. */
export type StepId = string;

/**
 * A JSON value whose strings may embed JSONata between `{{` and `}}`. A string that is exactly one
 * `{{ expr }}` takes the expression's value (any JSON type); otherwise the results are interpolated as text.
 */
export type Template = JsonValue;

/**
 * HTTP call. `service` names a base URL the I/O shell is configured with and `path` is relative to it,
 * so definitions never carry host names and the same template runs in every environment.
 */
export interface HttpCall {
  readonly type: 'http';
  readonly service: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Template rendering to a path starting with `/`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Template;
}

/** Publishes one record; the task succeeds once the broker acknowledges it. */
export interface KafkaCall {
  readonly type: 'kafka';
  readonly topic: string;
  readonly key?: string;
  readonly value: Template;
}

/** Runs a statement registered by name in the I/O shell; definitions never carry SQL. */
export interface PostgresCall {
  readonly type: 'postgres';
  readonly statement: string;
  readonly params: readonly Template[];
}

/** What a task (or its compensation) asks the I/O shell to do, before templates are rendered. */
export type ConnectorCall = HttpCall | KafkaCall | PostgresCall;

/** Retry schedule of a task: delay before attempt n+1 is `min(maxDelayMs, initialDelayMs * backoffMultiplier^(n-1))`. */
export interface TaskRetryPolicy {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly backoffMultiplier: number;
  readonly maxDelayMs: number;
}

interface StepCommon {
  readonly description?: string;
}

/** Calls a connector; on success its output is stored at `steps.<id>.output`. */
export interface TaskStep extends StepCommon {
  readonly kind: 'task';
  readonly connector: ConnectorCall;
  readonly retry: TaskRetryPolicy;
  /**
   * How long one attempt may run, counted from the moment a worker claims it (Temporal's start-to-close).
   * Every connector is held to what is left of it. Definitions may still spell it `timeoutMs`.
   */
  readonly startToCloseMs: number;
  /** How long an attempt may wait in the queue before a worker claims it; unset: as long as it takes. */
  readonly scheduleToStartMs?: number;
  /**
   * For long tasks: the longest silence tolerated from the worker running an attempt (it heartbeats while the
   * call is in flight), so a crashed worker's attempt times out after this rather than after start-to-close.
   */
  readonly heartbeatTimeoutMs?: number;
  /** Undoes the task's effect when the workflow unwinds; rendered with this run's output in `steps.<id>.output`. */
  readonly compensate?: ConnectorCall;
  readonly next: StepId;
}

/** Routes on the first `when` expression that evaluates to `true`. */
export interface ChoiceStep extends StepCommon {
  readonly kind: 'choice';
  readonly choices: ReadonlyArray<{ readonly when: string; readonly next: StepId }>;
  readonly otherwise: StepId;
}

/** Waits for a person. Output: `{ approved, by, reason?, escalated }`. */
export interface ApprovalStep extends StepCommon {
  readonly kind: 'approval';
  readonly title: string;
  /** Template rendered to text for the approver. */
  readonly prompt?: string;
  readonly approverRole: string;
  readonly timeoutMs: number;
  readonly onTimeout: 'reject' | 'escalate';
  /** Role that receives the request after the first timeout when `onTimeout` is `escalate`. */
  readonly escalateTo?: string;
  /** How long the escalated request stays open; defaults to `timeoutMs`. Expiry rejects. */
  readonly escalationTimeoutMs?: number;
  /** `compensate` unwinds the workflow; `{ next }` records the rejection and routes on. */
  readonly onReject: 'compensate' | { readonly next: StepId };
  readonly next: StepId;
}

/** Sleeps for a fixed duration or until the ISO time (or epoch milliseconds) an expression yields. */
export interface WaitStep extends StepCommon {
  readonly kind: 'wait';
  readonly durationMs?: number;
  readonly until?: string;
  readonly next: StepId;
}

/** Asks the decisioning agent; resumed by `decision.received`. Output: `{ decision, by?, rationale? }`. */
export interface DecisionStep extends StepCommon {
  readonly kind: 'decision';
  readonly question: string;
  /** When present, a decision must be one of these strings. */
  readonly options?: readonly string[];
  /** Expression selecting what the agent sees; defaults to the whole context (`{ input, steps }`). */
  readonly context?: string;
  readonly next: StepId;
}

/**
 * One branch of a parallel step. Its steps live in their own map and may only reach each other, which is what
 * lets one branch park on an approval while the others run on and lets the engine resume exactly that branch.
 */
export interface ParallelBranch {
  readonly name?: string;
  readonly start: StepId;
  readonly steps: Readonly<Record<StepId, StepDefinition>>;
}

/** Runs every branch to its `end`, then continues at `next`. A failing branch unwinds the whole workflow. */
export interface ParallelStep extends StepCommon {
  readonly kind: 'parallel';
  readonly branches: readonly ParallelBranch[];
  readonly next: StepId;
}

/** Ends the workflow (or, inside a branch, the branch). `failed` unwinds the workflow. */
export interface EndStep extends StepCommon {
  readonly kind: 'end';
  readonly status: 'completed' | 'failed';
}

export type StepDefinition =
  TaskStep | ChoiceStep | ApprovalStep | WaitStep | DecisionStep | ParallelStep | EndStep;

export type StepKind = StepDefinition['kind'];

export const stepKinds = [
  'task',
  'choice',
  'approval',
  'wait',
  'decision',
  'parallel',
  'end',
] as const satisfies readonly StepKind[];

/** Starts an instance on a cron schedule (UTC) with a fixed input. */
export interface WorkflowSchedule {
  readonly cron: string;
  readonly input: JsonValue;
}

/** A workflow template as plain data, after defaults are applied. */
export interface WorkflowDefinitionData {
  readonly name: string;
  readonly version: number;
  readonly description?: string;
  readonly start: StepId;
  readonly steps: Readonly<Record<StepId, StepDefinition>>;
  readonly schedule?: WorkflowSchedule;
}

declare const validated: unique symbol;

/**
 * A definition that passed `loadDefinition` (or the builder): schema-valid, semantically valid, expressions
 * compiled, deeply frozen. The brand keeps unchecked data away from `transition`.
 */
export type WorkflowDefinition = WorkflowDefinitionData & { readonly [validated]: true };

/** Defaults applied to a task's `retry` fields that a definition leaves out. */
export const defaultTaskRetryPolicy: TaskRetryPolicy = {
  maxAttempts: 3,
  initialDelayMs: 1_000,
  backoffMultiplier: 2,
  maxDelayMs: 60_000,
};

/** Default start-to-close timeout of a task attempt. */
export const defaultStartToCloseMs = 30_000;

const stepId = z.string().regex(stepIdPattern, 'must be an identifier (letter, then letters, digits or _)');
const jsonValue: z.ZodType<JsonValue> = z.json();
const nonEmpty = z.string().trim().min(1);
const positiveMs = z.number().int().positive();

/**
 * Headers that frame or route the request, and the ones the connector sets itself: a template naming one
 * could split or re-route the request at the far side (a second `content-length`, `transfer-encoding`, `host`)
 * or pose as another attempt (`idempotency-key`), so a definition that names one is refused.
 */
const reservedHeaders = new Set([
  'connection',
  'content-length',
  'content-type',
  'expect',
  'host',
  'idempotency-key',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'x-correlation-id',
]);
const headerNamePattern = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const httpHeaders = z.record(z.string().min(1), z.string()).superRefine((headers, context) => {
  for (const name of Object.keys(headers)) {
    if (!headerNamePattern.test(name))
      context.addIssue({
        code: 'custom',
        path: [name],
        message: "must be an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)",
      });
    else if (reservedHeaders.has(name.toLowerCase()))
      context.addIssue({
        code: 'custom',
        path: [name],
        message: 'is set by the connector or frames the request; a template may not set it',
      });
  }
});

const httpCall = z.strictObject({
  type: z.literal('http'),
  service: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case service name such as inventory'),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  path: nonEmpty,
  headers: httpHeaders.optional(),
  body: jsonValue.optional(),
});

const kafkaCall = z.strictObject({
  type: z.literal('kafka'),
  topic: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a Kafka topic name'),
  key: z.string().optional(),
  value: jsonValue,
});

const postgresCall = z.strictObject({
  type: z.literal('postgres'),
  statement: z
    .string()
    .regex(/^[a-z][a-z0-9_.]*$/, 'must name a registered statement such as shipment.status'),
  params: z.array(jsonValue).default([]),
});

const connectorCall = z.discriminatedUnion('type', [httpCall, kafkaCall, postgresCall]);

const retryPolicy = z
  .strictObject({
    maxAttempts: z.number().int().min(1).max(100).default(defaultTaskRetryPolicy.maxAttempts),
    initialDelayMs: z.number().int().min(0).default(defaultTaskRetryPolicy.initialDelayMs),
    backoffMultiplier: z.number().min(1).max(10).default(defaultTaskRetryPolicy.backoffMultiplier),
    maxDelayMs: z.number().int().min(0).default(defaultTaskRetryPolicy.maxDelayMs),
  })
  .prefault({});

const common = { description: z.string().optional() };

// `timeoutMs` is the name start-to-close had before schedule-to-start and heartbeats existed; definitions
// written with it load unchanged and normalise to the same definition (and hash) as with `startToCloseMs`.
const taskStep = z
  .strictObject({
    ...common,
    kind: z.literal('task'),
    connector: connectorCall,
    retry: retryPolicy,
    startToCloseMs: positiveMs.optional(),
    timeoutMs: positiveMs.optional(),
    scheduleToStartMs: positiveMs.optional(),
    heartbeatTimeoutMs: positiveMs.optional(),
    compensate: connectorCall.optional(),
    next: stepId,
  })
  .transform(({ timeoutMs, startToCloseMs, ...rest }, context) => {
    if (timeoutMs !== undefined && startToCloseMs !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['timeoutMs'],
        message: 'must not be set together with startToCloseMs (it is its older name)',
      });
      return z.NEVER;
    }
    return { ...rest, startToCloseMs: startToCloseMs ?? timeoutMs ?? defaultStartToCloseMs };
  });

const choiceStep = z.strictObject({
  ...common,
  kind: z.literal('choice'),
  choices: z.array(z.strictObject({ when: nonEmpty, next: stepId })).min(1),
  otherwise: stepId,
});

const approvalStep = z.strictObject({
  ...common,
  kind: z.literal('approval'),
  title: nonEmpty,
  prompt: z.string().optional(),
  approverRole: nonEmpty,
  timeoutMs: positiveMs,
  onTimeout: z.enum(['reject', 'escalate']).default('reject'),
  escalateTo: nonEmpty.optional(),
  escalationTimeoutMs: positiveMs.optional(),
  onReject: z.union([z.literal('compensate'), z.strictObject({ next: stepId })]).default('compensate'),
  next: stepId,
});

const waitStep = z.strictObject({
  ...common,
  kind: z.literal('wait'),
  durationMs: positiveMs.optional(),
  until: nonEmpty.optional(),
  next: stepId,
});

const decisionStep = z.strictObject({
  ...common,
  kind: z.literal('decision'),
  question: nonEmpty,
  options: z.array(nonEmpty).min(1).optional(),
  context: nonEmpty.optional(),
  next: stepId,
});

const endStep = z.strictObject({
  ...common,
  kind: z.literal('end'),
  status: z.enum(['completed', 'failed']).default('completed'),
});

const parallelStep = z.strictObject({
  ...common,
  kind: z.literal('parallel'),
  get branches() {
    return z.array(z.strictObject({ name: z.string().optional(), start: stepId, steps: stepMap })).min(1);
  },
  next: stepId,
});

const step = z.discriminatedUnion('kind', [
  taskStep,
  choiceStep,
  approvalStep,
  waitStep,
  decisionStep,
  parallelStep,
  endStep,
]);

// Keys are checked by the semantic pass, which can name the offending step instead of failing the whole map.
const stepMap: z.ZodType<Record<StepId, StepDefinition>> = z.record(z.string(), step);

/** Structural schema of a definition. Semantic rules (graph, expressions) are checked by `loadDefinition`. */
export const workflowDefinitionSchema: z.ZodType<WorkflowDefinitionData> = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,99}$/, 'must be kebab-case such as order-routing'),
  version: z.number().int().min(1),
  description: z.string().optional(),
  start: stepId,
  steps: stepMap,
  schedule: z.strictObject({ cron: nonEmpty, input: jsonValue.default({}) }).optional(),
});
