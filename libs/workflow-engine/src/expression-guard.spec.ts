import { readFileSync } from 'node:fs';
import jsonata from 'jsonata';
import { evaluateExpression, type ExpressionScope, inspectExpression } from './expression';
import { builtinReviews } from './expression-guard';
import { type JsonValue } from './json-value';

function scope(document: JsonValue = {}): ExpressionScope {
  return { document, nowMs: 0, instance: { id: 'i-1', workflow: 'w', version: 1 } };
}

/** Evaluates and reports how long it took, so every hostile case can be held to the one-second promise. */
async function timed(source: string, document?: JsonValue): Promise<{ ms: number; outcome: unknown }> {
  const started = performance.now();
  const outcome = await evaluateExpression(source, scope(document)).then(
    (value) => ({ value }),
    (error: Error) => ({ error: error.message }),
  );
  return { ms: performance.now() - started, outcome };
}

const doubled = (seed: string, times: number, step: (name: string) => string): string =>
  `($x := ${seed}; ${Array.from({ length: times }, () => `$x := ${step('$x')}`).join('; ')}; $x)`;

describe('expression guard', () => {
  // Both from the issue: before the guard the first ran 5 s and the second 4.7 s, with the event loop blocked.
  it('runs the catastrophic-backtracking pattern in linear time, on 27 characters and on 100 000', async () => {
    const short = await timed('$match(s, /^(a+)+$/)', { s: `${'a'.repeat(27)}!` });
    const long = await timed('$match(s, /^(a+)+$/)', { s: `${'a'.repeat(100_000)}!` });
    const matching = await timed('$match(s, /^(a+)+$/).match', { s: 'a'.repeat(27) });

    expect(short).toEqual({ ms: expect.any(Number), outcome: { value: undefined } });
    expect(long.outcome).toEqual({ value: undefined });
    expect(matching.outcome).toEqual({ value: 'a'.repeat(27) });
    expect(Math.max(short.ms, long.ms)).toBeLessThan(1_000);
  });

  it('refuses $pad("", 1e8) at once with an error that names the limit', async () => {
    const { ms, outcome } = await timed('$pad("", 1e8)');

    expect(outcome).toEqual({
      error: `expression '$pad("", 1e8)' failed: exceeds the expression limits: $pad to width 100000000; at most 500000 is allowed`,
    });
    expect(ms).toBeLessThan(1_000);
  });

  // Each defeated JSONata's between-nodes timeout (seconds of blocked event loop, or gigabytes) before the guard.
  const hostile: ReadonlyArray<[string, string, RegExp]> = [
    ['$join of a huge separator', '$join([1..1000].$string(), $pad("", 499999))', /\$join would build/],
    ['a string doubled by &', doubled('"aaaaaaaaaaaaaaaa"', 26, (x) => `${x} & ${x}`), /built a string of/],
    ['an array doubled', doubled('[1]', 25, (x) => `[${x}, ${x}]`), /maximum sequence length/],
    [
      'nested arrays doubled by sharing',
      doubled('[[1]]', 25, (x) => `[[${x}], [${x}]]`),
      /built a value of about/,
    ],
    [
      'an object doubled by sharing',
      doubled('{"a": 1}', 25, (x) => `{"a": ${x}, "b": ${x}}`),
      /built a value of about/,
    ],
    [
      'a transform that grows its copy',
      doubled('{"a": 1}', 25, (x) => `${x} ~> |$|{"b": ${x}, "c": ${x}}|`),
      /built a value of about/,
    ],
    ['a range of ten million', '$count([1..10000000])', /maximum sequence length/],
    [
      'memory piled up by a loop',
      '($big := $pad("", 400000); $count($map([1..100000], function($i) { $big & $i })))',
      /bytes of values in one evaluation/,
    ],
    ['date width modifiers', '$fromMillis(0, "[Y,*-100000000]")', /\$fromMillis width 100000000/],
    [
      'roman-numeral date parsing',
      `$toMillis("${'i'.repeat(60)}1", "[YI][MI][DI][HI][mI][sI]")`,
      /roman, letter or word/,
    ],
    ['a long number picture', `$formatNumber(1, "#${'0'.repeat(300)}")`, /picture of 301 characters/],
    [
      'pretty-printing deep nesting',
      '$string($reduce([1..1000], function($a, $b) { {"a": $a} }, {}), true)',
      /would indent/,
    ],
    [
      'a regex replacing half a million times',
      '$replace($pad("", 499999, "a"), /a/, "b")',
      /more than 10000 matches/,
    ],
    [
      '$split into half a million characters',
      '$count($split($pad("", 499999, "a"), ""))',
      /built a value of about/,
    ],
    [
      '$encodeUrlComponent growing a string sixfold',
      '$encodeUrlComponent($pad("", 499999, "é"))',
      /built a string of/,
    ],
    [
      'a lambda sort of a long array',
      '$sort($reverse([1..100000]), function($a, $b) { $a > $b })',
      /timeout/,
    ],
    [
      'a built-in passed to $reduce',
      '$count($reduce([1..100000], $append))',
      /\$append is a built-in function: call it/,
    ],
    [
      'a partial built-in passed to $map',
      '$count($map([1..100000], $pad(?, 400000)))',
      /\$pad is a built-in function/,
    ],
    [
      'nested cross products',
      '$count(([1..3000])@$a.([1..3000])@$b.{"a": $a})',
      /maximum sequence length|timeout/,
    ],
  ];

  it.each(hostile)('fails %s within a second with a clear error', async (_name, source, message) => {
    const { ms, outcome } = await timed(source);

    expect(outcome).toEqual({ error: expect.stringMatching(message) });
    expect(ms).toBeLessThan(1_000);
  });

  // JSONata's own versions are quadratic: 100 000 items took 9.5 s ($distinct) and longer ($sort, $spread).
  it('answers the built-ins it replaces in n log n', async () => {
    const length = 100_000;
    const document = {
      numbers: Array.from({ length }, (_, index) => length - index),
      objects: Array.from({ length }, (_, index) => ({ k: index % 1000 })),
    };
    const distinct = await timed('$count($distinct(numbers))', document);
    const sorted = await timed('($sorted := $sort(numbers); [$sorted[0], $sorted[-1]])', document);
    const spread = await timed('$count($spread(objects))', document);

    expect([distinct.outcome, sorted.outcome, spread.outcome]).toEqual([
      { value: length },
      { value: [1, length] },
      { value: length },
    ]);
    // Not the one-second promise (these are legitimate); far below the quadratic versions even on a loaded machine.
    expect(Math.max(distinct.ms, sorted.ms, spread.ms)).toBeLessThan(4_000);
  });

  it('gives the same answers as JSONata itself on ordinary data', async () => {
    const document: JsonValue = {
      items: [
        { sku: 'b', n: 2, tags: { x: 1, y: 2 } },
        { sku: 'a', n: 2, tags: { y: 2, x: 1 } },
        { sku: 'c', n: 1, tags: { x: 1 } },
      ],
      text: 'Order 12, order 345 and ORDER 6',
    };
    const sources = [
      '$sort(items.sku)',
      '$sort(items.n)',
      '$sort([1, "a"])',
      '$sort(items, function($l, $r) { $l.n > $r.n }).sku',
      'items^(n).sku',
      '$distinct(items.tags)',
      '$distinct([1, "1", 1, true, null, null, [1, 2], [1, 2], [2, 1]])',
      '$distinct(items.n)',
      '$spread(items.tags)',
      '$spread([[{"a": 1}], {"b": 2}, 3, []])',
      '$spread([])',
      '$pad(items[0].sku, -5, "#")',
      '$join(items.sku, ", ")',
      '$string(items[0], true)',
      '$match(text, /order (\\d+)/i).groups',
      '$replace(text, /(\\d+)/, "#$1")',
      '$split(text, /\\s*,\\s*|\\s+and\\s+/)',
      '$contains(text, /ORDER \\d$/)',
      '$formatNumber(1234.5, "#,##0.00")',
      '$formatInteger(1999, "I")',
      '$parseInteger("MCMXCIX", "I")',
      '$fromMillis(86400000, "[Y0001]-[M01]-[D01] [H01]:[m01]")',
      '$toMillis("2025-03-04 05:06", "[Y0001]-[M01]-[D01] [H01]:[m01]")',
    ];
    for (const source of sources) {
      const expected = await jsonata(source)
        .evaluate(document)
        .then(
          (value: unknown) => ({ value: JSON.parse(JSON.stringify(value ?? null)) as unknown }),
          (error: { code: string }) => ({ code: error.code }),
        );
      const actual = await evaluateExpression(source, scope(document)).then(
        (value) => ({ value: value ?? null }),
        (error: Error) => ({ code: /\((\w+)\)$/.exec(error.message)?.[1] }),
      );
      expect({ source, ...actual }).toEqual({ source, ...expected });
    }
  });

  it('lets an expression read a document larger than the limits, and build up to its size plus the limits', async () => {
    const text = { input: { text: 'x'.repeat(2_000_000) } };
    const items = { input: { items: [...Array(200_000).keys()] } };

    await expect(evaluateExpression('$length(input.text)', scope(text))).resolves.toBe(2_000_000);
    await expect(evaluateExpression('$length(input.text & "!")', scope(text))).resolves.toBe(2_000_001);
    await expect(evaluateExpression('$length(input.text & input.text)', scope(text))).rejects.toThrow(
      /built a string of 4000000 characters; at most 25000\d\d are allowed/,
    );
    await expect(evaluateExpression('$count(input.items)', scope(items))).resolves.toBe(200_000);
    await expect(evaluateExpression('$count([input, input])', scope(items))).rejects.toThrow(
      /built a value of about/,
    );
  });

  // The engine records a step's output into the context in place, between evaluations on the same document.
  it('measures the document afresh in every evaluation, so a part added in place cannot hide its size', async () => {
    const steps: Record<string, JsonValue> = {};
    const document = { input: {}, steps };
    await evaluateExpression('1', scope(document));
    steps.fetch = { output: { text: 'x'.repeat(400_000) } };

    const started = performance.now();
    await expect(
      evaluateExpression('$length($string($map([1..1000], function() { $$.steps })))', scope(document)),
    ).rejects.toThrow(/built a value of about/);
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('refuses at load the regular expressions that need backtracking, and the nondeterministic built-ins', () => {
    expect(inspectExpression('$match(s, /(a)\\1/)', new Set())).toEqual([
      {
        kind: 'syntax',
        message: expect.stringContaining(
          'uses the regular expression /(a)\\1/g, which the linear-time (RE2) engine refuses: error parsing regexp: invalid escape sequence',
        ),
      },
    ]);
    expect(inspectExpression('$contains(s, /a(?=b)/)', new Set())).toHaveLength(1);
    expect(inspectExpression(`$contains(s, /${'(a|b)?'.repeat(100)}/)`, new Set())).toEqual([
      {
        kind: 'syntax',
        message: expect.stringContaining('a regular expression of 600 characters; at most 500'),
      },
    ]);
    expect(inspectExpression('$shuffle([1, 2])', new Set())).toEqual([
      { kind: 'reference', message: "'$shuffle([1, 2])' uses $shuffle, which the engine does not allow" },
    ]);
  });

  it('refuses the forbidden built-ins at run time too, for expressions that skipped load', async () => {
    await expect(evaluateExpression('$random()', scope())).rejects.toThrow('$random is not allowed');
    await expect(evaluateExpression('$eval("1 + 1")', scope())).rejects.toThrow('$eval is not allowed');
  });

  // A built-in passed to a higher-order one runs natively per item, with no check in between.
  it('refuses at load a built-in used as a value, and allows calling it, piping into it and wrapping it', () => {
    const known = new Set<string>();
    expect(inspectExpression('$reduce(items, $append)', known)).toEqual([
      {
        kind: 'reference',
        message:
          "'$reduce(items, $append)': $append is a built-in function: call it, or wrap it in a function to pass it (function($v) { $append($v) })",
      },
    ]);
    expect(inspectExpression('$map(items, $pad(?, 3))', known)).toHaveLength(1);
    expect(inspectExpression('($f := $string; $f(1))', known)).toHaveLength(1);
    for (const allowed of ['$string(1)', 'items ~> $count', 'items ~> $map(function($v) { $string($v) })']) {
      expect(inspectExpression(allowed, known)).toEqual([]);
    }
  });

  // JSONata binds its built-ins in one place; a new one in an upgrade must be reviewed before it can be used.
  it('has reviewed every built-in the installed JSONata binds', () => {
    const source = readFileSync(require.resolve('jsonata'), 'utf8');
    const bound = [...source.matchAll(/(?:staticFrame|environment)\.bind\('(\w+)'/g)].map(
      (match) => match[1],
    );

    expect(bound.length).toBeGreaterThan(50);
    expect([...new Set(bound)].sort()).toEqual(Object.keys(builtinReviews).sort());
  });
});
