import {
  ExpressionEvaluationError,
  type ExpressionScope,
  evaluateExpression,
  inspectExpression,
  parseTemplate,
  renderTemplate,
  renderText,
} from './expression';
import { type JsonValue } from './json-value';

function scope(document: JsonValue, nowMs = Date.parse('2025-01-02T03:04:05.000Z')): ExpressionScope {
  return { document, nowMs, instance: { id: 'i-1', workflow: 'w', version: 3 } };
}

describe('expressions', () => {
  it('splits templates, finding the closing braces past nested objects and string literals', () => {
    expect(parseTemplate('/a/{{ input.id }}/b')).toEqual([
      { text: '/a/' },
      { expression: 'input.id', offset: 6 },
      { text: '/b' },
    ]);
    expect(parseTemplate('{{ {"a": {"b": "}}"}} }}')).toEqual([
      { expression: '{"a": {"b": "}}"}}', offset: 3 },
    ]);
    expect(parseTemplate('plain')).toEqual([{ text: 'plain' }]);
    expect(parseTemplate('')).toEqual([{ text: '' }]);
    expect(() => parseTemplate('a {{ }}')).toThrow("template error at offset 2: '{{ }}' is empty");
  });

  it('keeps the JSON type of a whole-value template and drops members that have no value', async () => {
    const document = { input: { n: 4, tags: ['a'], none: null } };
    await expect(
      renderTemplate(
        {
          n: '{{ input.n * 2 }}',
          tags: '{{ input.tags }}',
          missing: '{{ input.nope }}',
          list: ['{{ input.nope }}', 1],
        },
        scope(document),
      ),
    ).resolves.toEqual({ n: 8, tags: ['a'], list: [null, 1] });
  });

  it('interpolates scalars into text and refuses to interpolate nothing', async () => {
    await expect(
      renderText('/orders/{{ input.id }}?n={{ input.n }}', scope({ input: { id: 'o-1', n: 2 } })),
    ).resolves.toBe('/orders/o-1?n=2');
    await expect(renderText('/x/{{ input.nope }}', scope({ input: {} }))).rejects.toThrow(
      ExpressionEvaluationError,
    );
  });

  it('reads time and instance from the scope, never from the wall clock', async () => {
    const document = { input: {} };
    await expect(evaluateExpression('$now()', scope(document))).resolves.toBe('2025-01-02T03:04:05.000Z');
    await expect(evaluateExpression('$millis() + 1', scope(document, 10))).resolves.toBe(11);
    await expect(
      evaluateExpression('$instance.id & "@" & $string($instance.version)', scope(document)),
    ).resolves.toBe('i-1@3');
  });

  it('returns plain JSON, not JSONata sequences', async () => {
    const result = await evaluateExpression(
      'input.items.v',
      scope({ input: { items: [{ v: 1 }, { v: 2 }] } }),
    );
    expect(result).toEqual([1, 2]);
    expect(Object.keys(result as object)).toEqual(['0', '1']);
  });

  it('turns runtime errors and runaway recursion into evaluation errors', async () => {
    await expect(evaluateExpression('$notAFunction()', scope({}))).rejects.toThrow(/T1006/);
    await expect(evaluateExpression('($f := function($n) { 1 + $f($n) }; $f(0))', scope({}))).rejects.toThrow(
      /D1011/,
    );
    await expect(evaluateExpression('function($x) { $x }', scope({}))).rejects.toThrow('is not a JSON value');
  });

  it('inspects syntax, forbidden functions and step references without running anything', () => {
    const known = new Set(['reserve']);
    expect(inspectExpression('steps.reserve.output.id', known)).toEqual([]);
    expect(inspectExpression('$.steps.reserv.output', known)).toEqual([
      { kind: 'reference', message: "'$.steps.reserv.output' refers to unknown step 'reserv'" },
    ]);
    expect(inspectExpression('$map([1], $random)', known)).toEqual([
      { kind: 'reference', message: "'$map([1], $random)' uses $random, which the engine does not allow" },
    ]);
    expect(inspectExpression('1 +', known)).toEqual([
      {
        kind: 'syntax',
        message: "syntax error at position 3 in '1 +': Unexpected end of expression (S0207)",
      },
    ]);
  });
});
