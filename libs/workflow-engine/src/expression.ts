import jsonata from 'jsonata';
import {
  type AstNode,
  admitDocument,
  builtinsPassedAsValues,
  builtinsReady,
  forbiddenBuiltins,
  guard,
  guardOptions,
  linearPattern,
  visitAst,
} from './expression-guard';
import { type JsonValue, toJsonValue } from './json-value';

const compiled = new Map<string, jsonata.Expression>();

interface JsonataFailure {
  readonly code?: string;
  readonly position?: number;
  readonly message?: string;
}

function describeFailure(error: unknown): JsonataFailure {
  if (error !== null && typeof error === 'object') return error;
  return { message: String(error) };
}

/** A JSONata expression that does not compile. `position` is JSONata's character position in `source`. */
class ExpressionSyntaxError extends Error {
  constructor(
    readonly source: string,
    readonly position: number | undefined,
    readonly jsonataCode: string | undefined,
    detail: string,
  ) {
    super(
      `syntax error${position === undefined ? '' : ` at position ${position}`} in '${source}': ${detail}` +
        (jsonataCode ? ` (${jsonataCode})` : ''),
    );
    this.name = 'ExpressionSyntaxError';
  }
}

/** A JSONata expression or template that failed while running, or produced something unusable. */
export class ExpressionEvaluationError extends Error {
  constructor(
    readonly source: string,
    detail: string,
  ) {
    super(`expression '${source}' failed: ${detail}`);
    this.name = 'ExpressionEvaluationError';
  }
}

/** Compiles once per distinct source text; compilation is pure, so the cache is a memo, not state. */
function compile(source: string): jsonata.Expression {
  let expression = compiled.get(source);
  if (expression === undefined) {
    try {
      expression = guard(jsonata(source, guardOptions));
    } catch (error) {
      const failure = describeFailure(error);
      throw new ExpressionSyntaxError(
        source,
        failure.position,
        failure.code,
        failure.message ?? 'does not compile',
      );
    }
    compiled.set(source, expression);
  }
  return expression;
}

/** What an expression sees: the document is `{ input, steps }`; `$now()`/`$millis()` return the transition time. */
export interface ExpressionScope {
  readonly document: JsonValue;
  readonly nowMs: number;
  readonly instance: { readonly id: string; readonly workflow: string; readonly version: number };
}

function bindings(scope: ExpressionScope): Record<string, unknown> {
  const nowIso = new Date(scope.nowMs).toISOString();
  return { now: () => nowIso, millis: () => scope.nowMs, instance: scope.instance };
}

/** Evaluates a JSONata expression; `undefined` means "no value" (JSONata's empty result). */
export async function evaluateExpression(
  source: string,
  scope: ExpressionScope,
): Promise<JsonValue | undefined> {
  const expression = compile(source);
  await builtinsReady;
  admitDocument(scope.document);
  let raw: unknown;
  try {
    raw = await expression.evaluate(scope.document, bindings(scope));
  } catch (error) {
    const failure = describeFailure(error);
    throw new ExpressionEvaluationError(
      source,
      `${failure.message ?? 'evaluation error'}${failure.code ? ` (${failure.code})` : ''}`,
    );
  }
  try {
    return toJsonValue(raw, 'result');
  } catch (error) {
    throw new ExpressionEvaluationError(source, (error as Error).message);
  }
}

/** One problem found by inspecting an expression without running it. */
export interface ExpressionIssue {
  readonly kind: 'syntax' | 'reference';
  readonly message: string;
}

/**
 * Compiles `source` and checks what it refers to: forbidden functions and `steps.<id>` paths naming no step.
 * Runs at load time so a definition with a broken expression never starts an instance.
 */
export function inspectExpression(source: string, knownSteps: ReadonlySet<string>): ExpressionIssue[] {
  let ast: unknown;
  try {
    ast = compile(source).ast();
  } catch (error) {
    return [{ kind: 'syntax', message: (error as Error).message }];
  }
  const issues: ExpressionIssue[] = builtinsPassedAsValues(ast).map((problem) => ({
    kind: 'reference',
    message: `'${source}': ${problem}`,
  }));
  visitAst(ast, (node) => {
    if (node.type === 'variable' && typeof node.value === 'string' && forbiddenBuiltins.has(node.value)) {
      issues.push({
        kind: 'reference',
        message: `'${source}' uses $${node.value}, which the engine does not allow`,
      });
    }
    if (node.type === 'regex' && node.value instanceof RegExp) {
      try {
        linearPattern(node.value);
      } catch (error) {
        issues.push({
          kind: 'syntax',
          message: `'${source}' uses the regular expression ${String(node.value)}, which the linear-time (RE2) engine refuses: ${(error as Error).message}`,
        });
      }
    }
    const referenced = referencedStep(node);
    if (referenced !== undefined && !knownSteps.has(referenced)) {
      issues.push({ kind: 'reference', message: `'${source}' refers to unknown step '${referenced}'` });
    }
  });
  return issues;
}

/** The `<id>` of a path `steps.<id>…` rooted at the document. */
function referencedStep(node: AstNode): string | undefined {
  if (node.type !== 'path' || node.steps === undefined) return undefined;
  const steps = node.steps.filter(
    (step, index) => !(index === 0 && step.type === 'variable' && (step.value === '' || step.value === '$')),
  );
  const [first, second] = steps;
  if (first?.type === 'name' && first.value === 'steps' && second?.type === 'name') {
    return String(second.value);
  }
  return undefined;
}

/** A piece of a template string: literal text, or an expression with its offset in the string. */
export type TemplatePart =
  { readonly text: string } | { readonly expression: string; readonly offset: number };

/** A template string with an unterminated or empty `{{ }}`. */
export class TemplateSyntaxError extends Error {
  constructor(
    readonly offset: number,
    detail: string,
  ) {
    super(`template error at offset ${offset}: ${detail}`);
    this.name = 'TemplateSyntaxError';
  }
}

/**
 * Splits a string into text and `{{ expression }}` parts. The closing `}}` is found with brace depth and string
 * literals tracked, so object constructors such as `{{ {"a": {"b": 1}} }}` work.
 */
export function parseTemplate(source: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let index = 0;
  while (index < source.length) {
    if (!source.startsWith('{{', index)) {
      text += source[index];
      index += 1;
      continue;
    }
    const end = findClose(source, index + 2);
    if (end === undefined) throw new TemplateSyntaxError(index, "'{{' has no matching '}}'");
    const raw = source.slice(index + 2, end);
    const expression = raw.trim();
    if (expression === '') throw new TemplateSyntaxError(index, "'{{ }}' is empty");
    if (text !== '') parts.push({ text });
    text = '';
    parts.push({ expression, offset: index + 2 + (raw.length - raw.trimStart().length) });
    index = end + 2;
  }
  if (text !== '' || parts.length === 0) parts.push({ text });
  return parts;
}

function findClose(source: string, from: number): number | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let index = from; index < source.length; index += 1) {
    const char = source[index];
    if (quote !== undefined) {
      if (char === '\\') index += 1;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'" || char === '`') quote = char;
    else if (char === '/' && source[index + 1] === '*') {
      const close = source.indexOf('*/', index + 2);
      if (close === -1) return undefined;
      index = close + 1;
    } else if (char === '{') depth += 1;
    else if (char === '}') {
      if (depth > 0) depth -= 1;
      else if (source[index + 1] === '}') return index;
    }
  }
  return undefined;
}

/** A problem inside a template value, with the JSON path below the template's root (`body.lines[0]`). */
export interface TemplateIssue extends ExpressionIssue {
  readonly at: ReadonlyArray<string | number>;
}

/** Inspects every `{{ }}` in a template value; see `inspectExpression`. */
export function inspectTemplate(template: JsonValue, knownSteps: ReadonlySet<string>): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  walkStrings(template, [], (text, at) => {
    let parts: TemplatePart[];
    try {
      parts = parseTemplate(text);
    } catch (error) {
      issues.push({ kind: 'syntax', at, message: (error as Error).message });
      return;
    }
    for (const part of parts) {
      if ('expression' in part) {
        for (const issue of inspectExpression(part.expression, knownSteps)) issues.push({ ...issue, at });
      }
    }
  });
  return issues;
}

function walkStrings(
  value: JsonValue,
  at: ReadonlyArray<string | number>,
  onString: (text: string, at: ReadonlyArray<string | number>) => void,
): void {
  if (typeof value === 'string') onString(value, at);
  else if (Array.isArray(value)) value.forEach((item, index) => walkStrings(item, [...at, index], onString));
  else if (value !== null && typeof value === 'object') {
    for (const [key, member] of Object.entries(value)) walkStrings(member, [...at, key], onString);
  }
}

/**
 * Renders a template value. A string that is a single `{{ }}` keeps the value's JSON type; in objects a missing
 * value (`undefined`) drops the member and in arrays it becomes `null`, so optional fields stay optional.
 */
export async function renderTemplate(
  template: JsonValue,
  scope: ExpressionScope,
): Promise<JsonValue | undefined> {
  if (typeof template === 'string') {
    const parts = parseTemplate(template);
    const [only] = parts;
    if (parts.length === 1 && only !== undefined && 'expression' in only) {
      return evaluateExpression(only.expression, scope);
    }
    return interpolate(template, parts, scope);
  }
  if (Array.isArray(template)) {
    const items: JsonValue[] = [];
    for (const item of template) items.push((await renderTemplate(item, scope)) ?? null);
    return items;
  }
  if (template !== null && typeof template === 'object') {
    const result: Record<string, JsonValue> = {};
    for (const [key, member] of Object.entries(template)) {
      const rendered = await renderTemplate(member, scope);
      if (rendered !== undefined) result[key] = rendered;
    }
    return result;
  }
  return template;
}

/** Renders a template that must produce text (paths, headers, keys, prompts); scalars are converted to text. */
export async function renderText(template: string, scope: ExpressionScope): Promise<string> {
  return interpolate(template, parseTemplate(template), scope);
}

async function interpolate(
  source: string,
  parts: readonly TemplatePart[],
  scope: ExpressionScope,
): Promise<string> {
  let text = '';
  for (const part of parts) {
    if ('text' in part) {
      text += part.text;
      continue;
    }
    const value = await evaluateExpression(part.expression, scope);
    if (value === undefined) {
      throw new ExpressionEvaluationError(part.expression, `produced no value for template '${source}'`);
    }
    text += typeof value === 'string' ? value : JSON.stringify(value);
  }
  return text;
}
