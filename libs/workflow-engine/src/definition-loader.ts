import YAML from 'yaml';
import { type z } from 'zod';
import { canReach, cycles, reachableFrom } from './definition-graph';
import {
  type DataPath,
  type DefinitionIndex,
  type ScopeInfo,
  buildIndex,
  rootScope,
  transitionsOf,
} from './definition-index';
import {
  type ConnectorCall,
  type StepDefinition,
  type WorkflowDefinition,
  type WorkflowDefinitionData,
  stepIdPattern,
  stepKinds,
  workflowDefinitionSchema,
} from './definition.schema';
import {
  DefinitionProblemCode,
  type DefinitionProblem,
  WorkflowDefinitionError,
  WorkflowDefinitionErrorCode,
} from './definition.error';
import { type ExpressionIssue, type TemplateIssue, inspectExpression, inspectTemplate } from './expression';
import { type JsonValue, deepFreeze } from './json-value';
import { cronProblem } from './schedule';

/**
 * Parses (YAML or JSON text, or already-parsed data), validates and freezes a workflow definition.
 * Every expression is compiled here, so syntax errors surface at load, never mid-instance.
 *
 * @throws WorkflowDefinitionError listing every problem found.
 */
export function loadDefinition(source: unknown): WorkflowDefinition {
  return validateDefinition(typeof source === 'string' ? parseText(source) : source, []);
}

/**
 * Shared by `loadDefinition` and the builder. `knownProblems` carries what the caller already detected
 * (the builder's duplicate ids), so both paths report through one error.
 */
export function validateDefinition(
  data: unknown,
  knownProblems: readonly DefinitionProblem[],
): WorkflowDefinition {
  const parsed = workflowDefinitionSchema.safeParse(data, { error: describeIssue });
  if (!parsed.success) {
    fail(subjectOf(data), [...knownProblems, ...parsed.error.issues.map(toProblem)]);
  }
  const definition = structuredClone(parsed.data);
  const problems = [...knownProblems, ...checkSemantics(definition)];
  if (problems.length > 0) fail(subjectOf(definition), problems);
  return deepFreeze(definition) as WorkflowDefinition;
}

function fail(subject: string, problems: readonly DefinitionProblem[]): never {
  throw new WorkflowDefinitionError(WorkflowDefinitionErrorCode.Invalid, problems, subject);
}

function subjectOf(data: unknown): string {
  if (data === null || typeof data !== 'object') return 'workflow definition';
  const { name, version } = data as { name?: unknown; version?: unknown };
  if (typeof name !== 'string') return 'workflow definition';
  return `workflow definition '${name}'${typeof version === 'number' ? ` v${version}` : ''}`;
}

function parseText(text: string): unknown {
  const document = YAML.parseDocument(text);
  if (document.errors.length === 0) return document.toJS({ maxAliasCount: 100 }) as unknown;
  const problems = document.errors.map((error): DefinitionProblem => {
    const [line, column] = [error.linePos?.[0].line, error.linePos?.[0].col];
    const at = line === undefined ? '' : ` at line ${line}, column ${column}`;
    if (error.code === 'DUPLICATE_KEY') {
      const key = text.slice(error.pos[0], error.pos[1]).trim();
      return {
        code: DefinitionProblemCode.DuplicateKey,
        path: '',
        message: `key '${key}' appears twice${at}`,
      };
    }
    // yaml's first line is the sentence; the rest is a source excerpt.
    return {
      code: DefinitionProblemCode.Syntax,
      path: '',
      message: (error.message.split('\n')[0] ?? '').replace(/:$/, ''),
    };
  });
  throw new WorkflowDefinitionError(WorkflowDefinitionErrorCode.Unparseable, problems);
}

// Our phrasings start with a verb and read after the location ("step 'a'.next is required"); zod's own
// messages are appended after a colon.
const ownPhrasing = /^(is|must|has) /;

function describeIssue(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'is required';
  if (issue.code === 'unrecognized_keys') {
    return `has unknown field(s) ${issue.keys.map((key) => `'${key}'`).join(', ')}`;
  }
  if (issue.code === 'invalid_union' && 'discriminator' in issue && typeof issue.discriminator === 'string') {
    const value: unknown =
      issue.input !== null && typeof issue.input === 'object'
        ? (issue.input as Record<string, unknown>)[issue.discriminator]
        : undefined;
    const expected =
      issue.discriminator === 'kind' ? stepKinds : ((issue.options as readonly unknown[] | undefined) ?? []);
    const noun = issue.discriminator === 'kind' ? 'step kind' : 'connector type';
    return value === undefined
      ? 'is required'
      : `must be a known ${noun} (${expected.join(', ')}), got ${JSON.stringify(value)}`;
  }
  return undefined;
}

function toProblem(issue: z.core.$ZodIssue): DefinitionProblem {
  const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
  const where = locationOf(path);
  const message = ownPhrasing.test(issue.message)
    ? `${where} ${issue.message}`
    : `${where}: ${issue.message}`;
  return { code: DefinitionProblemCode.Schema, path: dataPath(path), message };
}

/** `steps.fan.branches[0].steps.a.next` */
export function dataPath(path: DataPath): string {
  return path
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`,
    )
    .join('');
}

/** Human location: `step 'a'.next` for anything inside a step (ids are unique, so the nesting is left out). */
function locationOf(path: DataPath): string {
  if (path[0] !== 'steps' || path.length < 2) return path.length === 0 ? 'definition' : dataPath(path);
  let stepAt = 1;
  while (
    path[stepAt + 1] === 'branches' &&
    typeof path[stepAt + 2] === 'number' &&
    path[stepAt + 3] === 'steps' &&
    path.length > stepAt + 4
  ) {
    stepAt += 4;
  }
  const rest = path.slice(stepAt + 1);
  return `step '${String(path[stepAt])}'${rest.length === 0 ? '' : rest.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${segment}`)).join('')}`;
}

function problem(code: DefinitionProblemCode, path: DataPath, sentence: string): DefinitionProblem {
  return { code, path: dataPath(path), message: sentence };
}

function describeScope(scope: ScopeInfo): string {
  return scope.branchOf === undefined
    ? 'the top-level flow'
    : `branch ${scope.branchOf.index} of parallel '${scope.branchOf.parallelId}'`;
}

function checkSemantics(definition: WorkflowDefinitionData): DefinitionProblem[] {
  const index = buildIndex(definition);
  const problems: DefinitionProblem[] = [];
  for (const duplicate of index.duplicates) {
    const first = index.steps.get(duplicate.id);
    problems.push(
      problem(
        DefinitionProblemCode.DuplicateStep,
        duplicate.path,
        `step '${duplicate.id}' is defined more than once (at ${dataPath(first?.path ?? [])} and ${dataPath(duplicate.path)})`,
      ),
    );
  }
  for (const location of index.steps.values()) {
    if (!stepIdPattern.test(location.id)) {
      problems.push(
        problem(
          DefinitionProblemCode.Schema,
          location.path,
          `step '${location.id}' has an invalid id: it must be a letter followed by letters, digits or _ so expressions can name it`,
        ),
      );
    }
  }
  problems.push(...checkGraph(index));
  for (const location of index.steps.values()) {
    problems.push(...checkStep(location.step, location.path, index));
  }
  if (definition.schedule !== undefined) {
    const complaint = cronProblem(definition.schedule.cron);
    if (complaint !== undefined) {
      problems.push(
        problem(
          DefinitionProblemCode.InvalidSchedule,
          ['schedule', 'cron'],
          `schedule.cron '${definition.schedule.cron}' is not a valid cron expression: ${complaint}`,
        ),
      );
    }
  }
  return problems;
}

function checkGraph(index: DefinitionIndex): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  for (const scope of index.scopes.values()) {
    const members = new Set(scope.stepIds);
    const graph = new Map<string, string[]>();
    for (const stepId of scope.stepIds) {
      const location = index.steps.get(stepId);
      // A duplicate id shadows this scope's step in the index; that is already reported.
      if (location === undefined || location.scope !== scope.id) continue;
      const targets: string[] = [];
      for (const { field, target } of transitionsOf(location.step)) {
        const fieldPath = [...location.path, ...field];
        const where = locationOf(fieldPath);
        const targetLocation = index.steps.get(target);
        if (targetLocation === undefined) {
          problems.push(
            problem(
              DefinitionProblemCode.UnknownStep,
              fieldPath,
              `${where} refers to unknown step '${target}'`,
            ),
          );
        } else if (!members.has(target)) {
          const targetScope = index.scopes.get(targetLocation.scope);
          problems.push(
            problem(
              DefinitionProblemCode.ScopeViolation,
              fieldPath,
              `${where} refers to step '${target}' of ${targetScope ? describeScope(targetScope) : 'another scope'}, outside ${describeScope(scope)}`,
            ),
          );
        } else {
          targets.push(target);
        }
      }
      graph.set(stepId, targets);
    }

    const startWhere = scope.id === rootScope ? 'start' : locationOf(scope.startPath);
    if (!members.has(scope.start)) {
      problems.push(
        problem(
          DefinitionProblemCode.MissingStart,
          scope.startPath,
          index.steps.has(scope.start)
            ? `${startWhere} refers to step '${scope.start}', which is not part of ${describeScope(scope)}`
            : `${startWhere} refers to unknown step '${scope.start}'`,
        ),
      );
    } else {
      const reached = reachableFrom(graph, scope.start);
      for (const stepId of scope.stepIds) {
        if (!reached.has(stepId)) {
          const location = index.steps.get(stepId);
          problems.push(
            problem(
              DefinitionProblemCode.UnreachableStep,
              location?.path ?? [],
              `step '${stepId}' is unreachable from ${describeScope(scope)} (start '${scope.start}')`,
            ),
          );
        }
      }
    }

    const ends = scope.stepIds.filter((stepId) => index.steps.get(stepId)?.step.kind === 'end');
    const exits = canReach(graph, ends);
    for (const cycle of cycles(graph)) {
      const path = index.steps.get(cycle[0] ?? '')?.path ?? [];
      const names = cycle.map((stepId) => `'${stepId}'`).join(', ');
      if (!cycle.some((stepId) => exits.has(stepId))) {
        problems.push(
          problem(
            DefinitionProblemCode.CycleWithoutExit,
            path,
            `steps ${names} form a cycle with no path to an end step`,
          ),
        );
      } else if (cycle.every((stepId) => index.steps.get(stepId)?.step.kind === 'choice')) {
        problems.push(
          problem(
            DefinitionProblemCode.BusyCycle,
            path,
            `steps ${names} form a cycle of choice steps that never waits for anything`,
          ),
        );
      }
    }
  }
  return problems;
}

function checkStep(step: StepDefinition, path: DataPath, index: DefinitionIndex): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const knownSteps = new Set(index.steps.keys());
  const expression = (field: DataPath, source: string): void => {
    problems.push(
      ...inspectExpression(source, knownSteps).map((issue) => expressionProblem([...path, ...field], issue)),
    );
  };
  const template = (field: DataPath, value: JsonValue): void => {
    problems.push(
      ...inspectTemplate(value, knownSteps).map((issue) => expressionProblem([...path, ...field], issue)),
    );
  };
  const invalid = (field: DataPath, predicate: string): void => {
    problems.push(
      problem(
        DefinitionProblemCode.InvalidStep,
        [...path, ...field],
        `${locationOf([...path, ...field])} ${predicate}`,
      ),
    );
  };

  switch (step.kind) {
    case 'task':
      problems.push(...checkCall(step.connector, [...path, 'connector'], knownSteps));
      if (step.compensate !== undefined) {
        problems.push(...checkCall(step.compensate, [...path, 'compensate'], knownSteps));
      }
      if (step.heartbeatTimeoutMs !== undefined && step.heartbeatTimeoutMs >= step.startToCloseMs) {
        invalid(['heartbeatTimeoutMs'], 'must be shorter than startToCloseMs (else it never fires first)');
      }
      break;
    case 'choice':
      step.choices.forEach((choice, choiceIndex) =>
        expression(['choices', choiceIndex, 'when'], choice.when),
      );
      break;
    case 'approval':
      if (step.prompt !== undefined) template(['prompt'], step.prompt);
      if (step.onTimeout === 'escalate' && step.escalateTo === undefined) {
        invalid(['escalateTo'], "is required when onTimeout is 'escalate'");
      }
      if (
        step.onTimeout === 'reject' &&
        (step.escalateTo !== undefined || step.escalationTimeoutMs !== undefined)
      ) {
        invalid(['onTimeout'], "must be 'escalate' when escalateTo or escalationTimeoutMs is set");
      }
      break;
    case 'wait':
      if ((step.durationMs === undefined) === (step.until === undefined)) {
        invalid([], 'must set exactly one of durationMs and until');
      }
      if (step.until !== undefined) expression(['until'], step.until);
      break;
    case 'decision':
      if (step.context !== undefined) expression(['context'], step.context);
      if (step.options !== undefined && new Set(step.options).size !== step.options.length) {
        invalid(['options'], 'must not repeat an option');
      }
      break;
    case 'parallel':
    case 'end':
      break;
  }
  return problems;
}

function checkCall(
  call: ConnectorCall,
  path: DataPath,
  knownSteps: ReadonlySet<string>,
): DefinitionProblem[] {
  const templates: Array<[DataPath, JsonValue]> = [];
  const problems: DefinitionProblem[] = [];
  switch (call.type) {
    case 'http':
      if (!call.path.startsWith('/')) {
        problems.push(
          problem(
            DefinitionProblemCode.InvalidStep,
            [...path, 'path'],
            `${locationOf([...path, 'path'])} must start with '/': it is resolved against the base URL configured for service '${call.service}'`,
          ),
        );
      }
      templates.push([['path'], call.path]);
      for (const [name, value] of Object.entries(call.headers ?? {}))
        templates.push([['headers', name], value]);
      if (call.body !== undefined) templates.push([['body'], call.body]);
      break;
    case 'kafka':
      if (call.key !== undefined) templates.push([['key'], call.key]);
      templates.push([['value'], call.value]);
      break;
    case 'postgres':
      call.params.forEach((param, paramIndex) => templates.push([['params', paramIndex], param]));
      break;
  }
  for (const [field, value] of templates) {
    problems.push(
      ...inspectTemplate(value, knownSteps).map((issue) => expressionProblem([...path, ...field], issue)),
    );
  }
  return problems;
}

function expressionProblem(path: DataPath, issue: ExpressionIssue | TemplateIssue): DefinitionProblem {
  const fullPath = 'at' in issue ? [...path, ...issue.at] : path;
  return problem(
    issue.kind === 'syntax'
      ? DefinitionProblemCode.ExpressionSyntax
      : DefinitionProblemCode.ExpressionReference,
    fullPath,
    `${locationOf(fullPath)}: ${issue.message}`,
  );
}
