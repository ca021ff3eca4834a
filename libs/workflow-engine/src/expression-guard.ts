import jsonata from 'jsonata';
import { type Matcher, RE2JS } from 're2js';

/**
 * How far one evaluation may go. JSONata checks its own timeout and depth only between AST nodes, so a single
 * built-in call runs unchecked; these ceilings keep every single call small enough that the timeout, checked
 * at the next node, ends a runaway expression well inside a second. See ADR 0003 for the measured figures.
 */
export const expressionLimits = {
  // The one limit that reads the wall clock (inside JSONata): a runaway expression reaches it, and so can a
  // legitimate one if the whole process stalls that long mid-evaluation (ADR 0003). The others are deterministic.
  timeoutMs: 500,
  stackDepth: 500,
  /** Characters of one string the expression builds, beyond the size of the document it reads. */
  stringLength: 500_000,
  /**
   * Size of one value the expression builds, beyond the size of the document it reads, in about bytes of JSON:
   * `elementSize` per array, object, element or member plus one per character; a part shared by reference
   * counts at every place it appears, so a value cannot grow by repeating itself.
   */
  valueSize: 1_000_000,
  elementSize: 8,
  /** Size built over one evaluation (same units), so a loop cannot pile up memory before the timeout. */
  allocated: 32_000_000,
  /** Matches one use of a regular expression may find: JSONata's loop over them is not checked in between. */
  regexMatches: 10_000,
  /** Characters of a regex literal: RE2's time is linear in the input times the size of the pattern. */
  regexLength: 500,
  /** Picture strings of the formatting built-ins, and the widths they ask for. */
  pictureLength: 256,
  pictureWidth: 64,
  /** `$toMillis` with a picture matches with a backtracking regex built from the picture; short input keeps it cheap. */
  parsedTimestampLength: 64,
} as const;

/** An expression the guard stopped: it would exceed `expressionLimits`, or it uses what the engine forbids. */
export class ExpressionGuardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionGuardError';
  }
}

// ---- Regular expressions: RE2 semantics, linear in the input, so no pattern can backtrack catastrophically.

const linearPatterns = new Map<string, RE2JS>();

/**
 * The RE2 form of a JSONata regex literal; throws when RE2 cannot run it (back-references, lookahead, repeats
 * over 1000) or it is longer than `regexLength`.
 */
export function linearPattern(regex: RegExp): RE2JS {
  const key = `${regex.flags}/${regex.source}`;
  let pattern = linearPatterns.get(key);
  if (pattern === undefined) {
    if (regex.source.length > expressionLimits.regexLength) {
      refuse(
        `a regular expression of ${regex.source.length} characters; at most ${expressionLimits.regexLength} are allowed`,
      );
    }
    const flags = (regex.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0) | (regex.multiline ? RE2JS.MULTILINE : 0);
    pattern = RE2JS.compile(RE2JS.translateRegExp(regex.source), flags);
    linearPatterns.set(key, pattern);
  }
  return pattern;
}

/** The slice of `RegExp` JSONata's regex closure uses (`lastIndex`, `exec`), answered by RE2. */
class LinearRegExp {
  lastIndex = 0;
  private readonly pattern: RE2JS;
  private matches = 0;
  private matcher: { readonly text: string; readonly over: Matcher } | undefined;

  constructor(regex: RegExp) {
    this.pattern = linearPattern(regex);
  }

  exec(text: string): RegExpExecArray | null {
    // JSONata calls exec once per match on the same text; one matcher serves them all.
    if (this.matcher?.text !== text) this.matcher = { text, over: this.pattern.matcher(text) };
    const matcher = this.matcher.over;
    if (this.lastIndex > text.length || !matcher.find(this.lastIndex)) {
      this.lastIndex = 0;
      return null;
    }
    this.matches += 1;
    if (this.matches > expressionLimits.regexMatches) {
      refuse(`a regular expression found more than ${expressionLimits.regexMatches} matches`);
    }
    const groups: Array<string | undefined> = [];
    for (let group = 0; group <= matcher.groupCount(); group += 1)
      groups.push(matcher.group(group) ?? undefined);
    const match = Object.assign(groups, { index: matcher.start(), input: text }) as RegExpExecArray;
    this.lastIndex = matcher.end();
    return match;
  }
}

// ---- Size accounting, run by JSONata after every AST node.

// Nodes whose result is a value some other node already produced: not counted again.
const passThroughNodes = new Set([
  'variable',
  'bind',
  'block',
  'condition',
  'parent',
  'regex',
  'lambda',
  'string',
  'number',
  'value',
]);
// Nodes that select from their input; the text they return is the document's or was counted when it was built.
const selectionNodes = new Set(['name', 'path', 'wildcard', 'descendant']);

interface Budget {
  /** Sizes measured in this evaluation. Never kept across evaluations: the engine edits documents in place. */
  readonly sizes: WeakMap<object, number>;
  readonly document: unknown;
  /** The document's size, measured only when a value is larger than the limits alone allow. */
  documentSize: number | undefined;
  allocated: number;
}

// Keyed by JSONata's per-evaluation environment (`environment.base`), so concurrent evaluations of one compiled
// expression keep separate budgets.
const budgets = new WeakMap<object, Budget>();

// The document an expression reads is bounded by whoever produced it (message and response size limits), not
// by the expression: reading a part of it is not building one, so those parts are not measured when a node
// returns them, and a built value may be as large as the document plus the limit. Only identity is kept across
// evaluations (a part stays a part of some document); sizes are always measured afresh.
const documentParts = new WeakSet<object>();

/** Marks `document` as read-only input; its parts are marked as expressions reach them. */
export function admitDocument(document: unknown): void {
  markDocumentPart(document);
}

function markDocumentPart(value: unknown): void {
  if (value === null || typeof value !== 'object' || documentParts.has(value)) return;
  documentParts.add(value);
  // Path steps read array items one by one, so the items of a part are parts too.
  if (Array.isArray(value))
    for (const item of value as unknown[])
      if (item !== null && typeof item === 'object') documentParts.add(item);
}

function isFunctionValue(value: object): boolean {
  const marks = value as { _jsonata_lambda?: unknown; _jsonata_function?: unknown };
  return marks._jsonata_lambda === true || marks._jsonata_function === true;
}

/**
 * Logical size of `value` (a shared part counts at every place it appears); adds what the expression built to
 * `allocated` (not the document's parts, which it only refers to).
 */
function measure(
  value: unknown,
  sizes: WeakMap<object, number> | Map<object, number>,
  budget: Budget,
): number {
  if (typeof value === 'string') return expressionLimits.elementSize + value.length;
  if (value === null || typeof value !== 'object' || isFunctionValue(value))
    return expressionLimits.elementSize;
  const known = sizes.get(value);
  if (known !== undefined) return known;
  sizes.set(value, expressionLimits.elementSize); // a cycle (JSONata's bookkeeping objects) counts once, not forever
  let size = expressionLimits.elementSize;
  let own = expressionLimits.elementSize;
  const add = (key: string, member: unknown): void => {
    const memberSize = measure(member, sizes, budget);
    size += key.length + memberSize;
    own += key.length + (typeof member === 'string' ? memberSize : expressionLimits.elementSize);
  };
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) add('', item);
  } else {
    const members = value as Record<string, unknown>;
    for (const key of Object.keys(members)) add(key, members[key]);
  }
  sizes.set(value, size);
  if (!documentParts.has(value)) budget.allocated += own;
  return size;
}

function documentSizeOf(budget: Budget): number {
  if (budget.documentSize === undefined) {
    const allocated = budget.allocated; // the document is read, not built
    budget.documentSize = measure(budget.document, budget.sizes, budget);
    budget.allocated = allocated;
  }
  return budget.documentSize;
}

/** The subset of JSONata's AST the guard reads (its published typings omit some node types). */
export interface AstNode {
  readonly type: string;
  readonly value?: unknown;
  readonly steps?: readonly AstNode[];
  readonly procedure?: AstNode;
  readonly rhs?: AstNode;
}

/** Calls `onNode` for every node of a JSONata AST, parents before their children. */
export function visitAst(node: unknown, onNode: (node: AstNode) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) visitAst(child, onNode);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  if ('type' in node && typeof node.type === 'string') onNode(node as AstNode);
  for (const child of Object.values(node)) visitAst(child, onNode);
}

// ---- Built-ins only called, never passed. A higher-order built-in ($map, $reduce, $sort…) calls its function
// argument once per item. A lambda's calls are JSONata nodes, so the checks run between them; a built-in passed
// instead (or a partial application of one, which JSONata runs natively) is called for every item unchecked:
// `$reduce([1..100000], $append)` copies quadratically with no check in between.

// `$f` nodes in a call position: the procedure of `$f(…)`, or the right side of `x ~> $f`.
const calledNodes = new WeakSet<object>();

function isBuiltinFunction(value: unknown): boolean {
  return (
    typeof value === 'function' ||
    (value !== null &&
      typeof value === 'object' &&
      (value as { _jsonata_function?: unknown })._jsonata_function === true)
  );
}

function describeBuiltinValue(name: string): string {
  return `$${name} is a built-in function: call it, or wrap it in a function to pass it (function($v) { $${name}($v) })`;
}

/**
 * Marks the call positions of `ast` for the run-time check, and returns what load must refuse: the built-ins it
 * names in a value position (passed as an argument, bound to a variable, partially applied).
 */
export function builtinsPassedAsValues(ast: unknown): string[] {
  const passed: string[] = [];
  visitAst(ast, (node) => {
    if (node.type === 'function' && node.procedure !== undefined) calledNodes.add(node.procedure);
    if (node.type === 'apply' && node.rhs?.type === 'variable') calledNodes.add(node.rhs);
    if (
      node.type === 'variable' &&
      typeof node.value === 'string' &&
      Object.hasOwn(builtinReviews, node.value) &&
      builtinReviews[node.value]?.kind !== 'forbidden' && // reported as forbidden wherever it appears
      !calledNodes.has(node)
    ) {
      passed.push(describeBuiltinValue(node.value));
    }
  });
  return passed;
}

interface EvaluationEnvironment {
  readonly base: { lookup(name: string): unknown };
}

function budgetOf(environment: EvaluationEnvironment): Budget {
  let budget = budgets.get(environment.base);
  if (budget === undefined) {
    budget = {
      sizes: new WeakMap(),
      document: environment.base.lookup('$'),
      documentSize: undefined,
      allocated: 0,
    };
    budgets.set(environment.base, budget);
  }
  return budget;
}

function checkNodeResult(
  node: AstNode,
  input: unknown,
  environment: EvaluationEnvironment,
  result: unknown,
): void {
  if (node.type === 'variable' && isBuiltinFunction(result) && !calledNodes.has(node)) {
    throw new ExpressionGuardError(describeBuiltinValue(String(node.value)));
  }
  if (
    (typeof result !== 'string' && (typeof result !== 'object' || result === null)) ||
    passThroughNodes.has(node.type)
  ) {
    return;
  }
  // A field read from a part of the document is a part of it.
  if (node.type === 'name' && input !== null && typeof input === 'object' && documentParts.has(input)) {
    markDocumentPart(result);
  }
  const budget = budgetOf(environment);
  if (typeof result === 'string') {
    if (!selectionNodes.has(node.type)) budget.allocated += result.length;
    if (result.length > expressionLimits.stringLength) {
      const limit = expressionLimits.stringLength + documentSizeOf(budget);
      if (result.length > limit) {
        refuse(`built a string of ${result.length} characters; at most ${limit} are allowed`);
      }
    }
  } else if (typeof result === 'object' && result !== null && !documentParts.has(result)) {
    // The transform operator (`~> | … |`) edits its copy in place after parts of it were measured, so its
    // result is measured afresh and the fresh sizes replace the stale ones.
    let size: number;
    if (node.type === 'transform') {
      const fresh = new Map<object, number>();
      size = measure(result, fresh, budget);
      for (const [object, objectSize] of fresh) budget.sizes.set(object, objectSize);
    } else {
      size = measure(result, budget.sizes, budget);
    }
    if (size > expressionLimits.valueSize) {
      const limit = expressionLimits.valueSize + documentSizeOf(budget);
      if (size > limit) refuse(`built a value of about ${size} bytes of JSON; at most ${limit} are allowed`);
    }
  }
  if (budget.allocated > expressionLimits.allocated) {
    refuse(`built more than about ${expressionLimits.allocated} bytes of values in one evaluation`);
  }
}

// ---- Built-ins. Every JSONata 2.x built-in is listed with how it is kept bounded; the completeness test
// compares this list with the names the installed jsonata binds, so an upgrade that adds one fails until it is
// reviewed here.

/** `this` of a JSONata built-in. */
interface BuiltinFocus {
  createSequence(...items: unknown[]): unknown[];
}

type Implementation = (this: BuiltinFocus, ...args: never[]) => unknown;

interface JsonataFunction {
  readonly implementation: (this: BuiltinFocus, ...args: unknown[]) => unknown;
}

type BuiltinReview =
  /** Work and output are linear in its arguments, which the value limit bounds. */
  | { readonly kind: 'linear' }
  /** Calls a function argument once per item; every call is a JSONata node, so the timeout is checked. */
  | { readonly kind: 'per-item' }
  /** Refused at load and at run time. */
  | { readonly kind: 'forbidden'; readonly reason: string }
  /** Replaced by a bounded version with JSONata's signature. */
  | { readonly kind: 'replaced'; readonly signature: string; readonly implementation: Implementation }
  /** Bound per evaluation by the engine (`$now`, `$millis`). */
  | { readonly kind: 'bound' };

const linear = { kind: 'linear' } as const;
const perItem = { kind: 'per-item' } as const;

// The originals the replacements delegate to once their arguments are checked.
const originalNames = [
  'pad',
  'join',
  'string',
  'spread',
  'formatNumber',
  'formatInteger',
  'parseInteger',
  'fromMillis',
  'toMillis',
] as const;
type OriginalName = (typeof originalNames)[number];
let originals: Record<OriginalName, JsonataFunction> | undefined;

/** Resolves once the built-ins the replacements delegate to are captured; evaluation awaits it. */
export const builtinsReady: Promise<void> = jsonata(
  `{${originalNames.map((name) => `"${name}": $${name}`).join(', ')}}`,
)
  .evaluate({})
  .then((captured) => {
    originals = captured as Record<OriginalName, JsonataFunction>;
  });

function original(name: OriginalName): JsonataFunction['implementation'] {
  if (originals === undefined) throw new Error('expression built-ins used before builtinsReady resolved');
  return originals[name].implementation;
}

function refuse(detail: string): never {
  throw new ExpressionGuardError(`exceeds the expression limits: ${detail}`);
}

function checkPicture(picture: string | undefined, builtin: string): void {
  if (picture !== undefined && picture.length > expressionLimits.pictureLength) {
    refuse(
      `${builtin} picture of ${picture.length} characters; at most ${expressionLimits.pictureLength} are allowed`,
    );
  }
}

/** `[Y,2-4]`: width modifiers after the comma of a date/time component. */
function checkPictureWidths(picture: string, builtin: string): void {
  for (const component of picture.matchAll(/\[[^\]]*\]/g)) {
    const widths = component[0].split(',')[1] ?? '';
    for (const width of widths.matchAll(/\d+/g)) {
      if (Number(width[0]) > expressionLimits.pictureWidth) {
        refuse(
          `${builtin} width ${width[0]} in '${component[0]}'; at most ${expressionLimits.pictureWidth} is allowed`,
        );
      }
    }
  }
}

// Roman numerals, letters and words parse with `+` over overlapping alphabets: adjacent components backtrack.
const backtrackingPresentations = /^[IiAaWw]/;

function pad(this: BuiltinFocus, text: string | undefined, width: number, padding?: string): unknown {
  if (Math.abs(Math.trunc(width)) > expressionLimits.stringLength) {
    refuse(`$pad to width ${width}; at most ${expressionLimits.stringLength} is allowed`);
  }
  return original('pad').call(this, text, width, padding);
}

function join(this: BuiltinFocus, texts: string[] | undefined, separator?: string): unknown {
  if (texts !== undefined) {
    let length = Math.max(0, texts.length - 1) * (separator ?? '').length;
    for (const text of texts) length += text.length;
    if (length > expressionLimits.stringLength) {
      refuse(`$join would build ${length} characters; at most ${expressionLimits.stringLength} are allowed`);
    }
  }
  return original('join').call(this, texts, separator);
}

/** Pretty-printing indents every line by its depth, so deep nesting multiplies the output. */
function string(this: BuiltinFocus, value: unknown, prettify?: boolean): unknown {
  if (prettify === true) {
    let indentation = 0;
    const pending: Array<[unknown, number]> = [[value, 0]];
    while (pending.length > 0) {
      const [item, depth] = pending.pop() as [unknown, number];
      indentation += 2 * depth;
      if (indentation > expressionLimits.stringLength) {
        refuse(`$string would indent by more than ${expressionLimits.stringLength} characters`);
      }
      if (item !== null && typeof item === 'object' && !isFunctionValue(item)) {
        for (const member of Object.values(item)) pending.push([member, depth + 1]);
      }
    }
  }
  return original('string').call(this, value, prettify);
}

/** JSONata's `$distinct` compares every pair; this keys each item by a canonical form instead, in one pass. */
function distinct(this: BuiltinFocus, items: unknown): unknown {
  if (!Array.isArray(items) || items.length <= 1) return items;
  const result = (items as { sequence?: boolean }).sequence === true ? this.createSequence() : [];
  const seen = new Set<unknown>();
  for (const item of items as unknown[]) {
    const key = canonicalKey(item);
    if (!seen.has(key)) {
      seen.add(key);
      result.push(item);
    }
  }
  return result;
}

/** Equal keys exactly when JSONata's deep equality holds: object members in any order, functions by identity. */
function canonicalKey(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'string' ? `s${value}` : value;
  if (isFunctionValue(value)) return value;
  let holdsFunction = false;
  const text = JSON.stringify(value, (_key, member: unknown) => {
    if (
      typeof member === 'function' ||
      (member !== null && typeof member === 'object' && isFunctionValue(member))
    ) {
      holdsFunction = true;
    }
    if (member === null || typeof member !== 'object' || Array.isArray(member)) return member;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(member).sort()) sorted[key] = (member as Record<string, unknown>)[key];
    return sorted;
  });
  return holdsFunction ? value : `j${text}`;
}

type Comparator = (left: unknown, right: unknown) => unknown;

/**
 * JSONata's merge sort slices and recurses once per element (quadratic) and awaits even its own comparator; this
 * is the same stable order in n log n, synchronous when there is no comparator.
 */
async function sort(
  this: BuiltinFocus,
  items: unknown[] | undefined,
  comparator?: Comparator,
): Promise<unknown> {
  if (items === undefined) return undefined;
  if (items.length <= 1) return items;
  if (comparator !== undefined) return mergeSort(items, comparator);
  const numbers = items.every((item) => typeof item === 'number');
  if (!numbers && !items.every((item) => typeof item === 'string')) {
    // JSONata fills in the message for its own codes.
    throw Object.assign(new Error('D3070'), { code: 'D3070', index: 1 });
  }
  return [...(items as Array<number | string>)].sort((left, right) =>
    left > right ? 1 : left < right ? -1 : 0,
  );
}

async function mergeSort(items: unknown[], after: Comparator): Promise<unknown[]> {
  if (items.length <= 1) return items;
  const middle = Math.floor(items.length / 2);
  const left = await mergeSort(items.slice(0, middle), after);
  const right = await mergeSort(items.slice(middle), after);
  const merged: unknown[] = [];
  let l = 0;
  let r = 0;
  while (l < left.length && r < right.length) {
    if (await after(left[l], right[r])) merged.push(right[r++]);
    else merged.push(left[l++]);
  }
  while (l < left.length) merged.push(left[l++]);
  while (r < right.length) merged.push(right[r++]);
  return merged;
}

/** JSONata's `$spread` appends by copying the whole result per item (quadratic); this collects in one pass. */
function spread(this: BuiltinFocus, value: unknown): unknown {
  if (!Array.isArray(value)) return original('spread').call(this, value);
  const parts: unknown[] = [];
  let appended = false;
  for (const item of value as unknown[]) {
    const part = spread.call(this, item);
    if (part === undefined) continue;
    appended = true;
    if (Array.isArray(part)) for (const entry of part as unknown[]) parts.push(entry);
    else parts.push(part);
  }
  // JSONata's append returns a plain array once anything was appended, and the empty sequence otherwise.
  return appended ? parts : this.createSequence();
}

function formatNumber(
  this: BuiltinFocus,
  value: number | undefined,
  picture: string,
  options?: object,
): unknown {
  checkPicture(picture, '$formatNumber');
  return original('formatNumber').call(this, value, picture, options);
}

function formatInteger(this: BuiltinFocus, value: number | undefined, picture: string): unknown {
  checkPicture(picture, '$formatInteger');
  return original('formatInteger').call(this, value, picture);
}

function parseInteger(this: BuiltinFocus, value: string | undefined, picture: string): unknown {
  checkPicture(picture, '$parseInteger');
  return original('parseInteger').call(this, value, picture);
}

function fromMillis(
  this: BuiltinFocus,
  millis: number | undefined,
  picture?: string,
  timezone?: string,
): unknown {
  if (picture !== undefined) {
    checkPicture(picture, '$fromMillis');
    checkPictureWidths(picture, '$fromMillis');
  }
  return original('fromMillis').call(this, millis, picture, timezone);
}

function toMillis(this: BuiltinFocus, timestamp: string | undefined, picture?: string): unknown {
  if (picture !== undefined) {
    checkPicture(picture, '$toMillis');
    checkPictureWidths(picture, '$toMillis');
    if (timestamp !== undefined && timestamp.length > expressionLimits.parsedTimestampLength) {
      refuse(`$toMillis with a picture parses at most ${expressionLimits.parsedTimestampLength} characters`);
    }
    for (const component of picture.matchAll(/\[([^\]]*)\]/g)) {
      const presentation = (component[1] ?? '').replace(/\s/g, '').slice(1).split(',')[0] ?? '';
      if (backtrackingPresentations.test(presentation)) {
        refuse(`$toMillis cannot parse the roman, letter or word component '${component[0]}'`);
      }
    }
  }
  return original('toMillis').call(this, timestamp, picture);
}

export const builtinReviews: Readonly<Record<string, BuiltinReview>> = {
  // Aggregation, numbers, booleans, types: linear in their argument.
  sum: linear,
  count: linear,
  max: linear,
  min: linear,
  average: linear,
  number: linear,
  floor: linear,
  ceil: linear,
  round: linear,
  abs: linear,
  sqrt: linear,
  power: linear,
  formatBase: linear,
  boolean: linear,
  not: linear,
  exists: linear,
  type: linear,
  error: linear,
  assert: linear,
  // Strings: one pass over text the string limit bounds ($substring copies into code points; $encode* grow ≤ 9×).
  substring: linear,
  substringBefore: linear,
  substringAfter: linear,
  lowercase: linear,
  uppercase: linear,
  length: linear,
  trim: linear,
  base64encode: linear,
  base64decode: linear,
  encodeUrlComponent: linear,
  encodeUrl: linear,
  decodeUrlComponent: linear,
  decodeUrl: linear,
  // Regex-taking built-ins run the literal through `LinearRegExp`; with a string pattern they use indexOf.
  match: linear,
  contains: linear,
  replace: linear,
  split: linear,
  // Arrays and objects: one pass (clone is a JSON round trip of a value the value limit bounds).
  keys: linear,
  lookup: linear,
  append: linear,
  merge: linear,
  reverse: linear,
  zip: linear,
  clone: linear,
  map: perItem,
  filter: perItem,
  single: perItem,
  reduce: perItem,
  sift: perItem,
  each: perItem,
  pad: { kind: 'replaced', signature: '<s-ns?:s>', implementation: pad },
  join: { kind: 'replaced', signature: '<a<s>s?:s>', implementation: join },
  string: { kind: 'replaced', signature: '<x-b?:s>', implementation: string },
  distinct: { kind: 'replaced', signature: '<x:x>', implementation: distinct },
  sort: { kind: 'replaced', signature: '<af?:a>', implementation: sort },
  spread: { kind: 'replaced', signature: '<x-:a<o>>', implementation: spread },
  formatNumber: { kind: 'replaced', signature: '<n-so?:s>', implementation: formatNumber },
  formatInteger: { kind: 'replaced', signature: '<n-s:s>', implementation: formatInteger },
  parseInteger: { kind: 'replaced', signature: '<s-s:n>', implementation: parseInteger },
  fromMillis: { kind: 'replaced', signature: '<n-s?s?:s>', implementation: fromMillis },
  toMillis: { kind: 'replaced', signature: '<s-s?:n>', implementation: toMillis },
  random: { kind: 'forbidden', reason: 'breaks determinism' },
  shuffle: { kind: 'forbidden', reason: 'breaks determinism' },
  eval: { kind: 'forbidden', reason: 'would run text that load-time validation never saw' },
  now: { kind: 'bound' },
  millis: { kind: 'bound' },
};

/** Built-ins a definition may not use. */
export const forbiddenBuiltins: ReadonlySet<string> = new Set(
  Object.entries(builtinReviews).flatMap(([name, review]) => (review.kind === 'forbidden' ? [name] : [])),
);

/** JSONata options: its own depth and time checks, its sequence cap, and the linear-time regex engine. */
export const guardOptions: jsonata.JsonataOptions = {
  stack: expressionLimits.stackDepth,
  timeout: expressionLimits.timeoutMs,
  sequence: expressionLimits.valueSize / expressionLimits.elementSize,
  RegexEngine: LinearRegExp as unknown as RegExpConstructor,
};

/** Installs the replacements, the refusals and the per-node size check on a freshly compiled expression. */
export function guard(expression: jsonata.Expression): jsonata.Expression {
  for (const [name, review] of Object.entries(builtinReviews)) {
    if (review.kind === 'replaced') {
      expression.registerFunction(
        name,
        review.implementation as (...args: unknown[]) => unknown,
        review.signature,
      );
    } else if (review.kind === 'forbidden') {
      expression.registerFunction(name, () => {
        throw new ExpressionGuardError(`$${name} is not allowed: it ${review.reason}`);
      });
    }
  }
  builtinsPassedAsValues(expression.ast());
  // JSONata's evaluation hook: called after every node with the node, its input, environment and result.
  expression.assign(Symbol.for('jsonata.__evaluate_exit') as unknown as string, checkNodeResult);
  return expression;
}
