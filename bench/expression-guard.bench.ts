// Expression guard: what bounding every JSONata built-in (RE2 regexes, the per-node size check, the replaced
// built-ins) costs per evaluation. The same expressions run as the engine evaluated them before the guard and
// with it, each on a document already read and on a fresh copy (a transition on state just loaded).
// Run: bench/run.sh expression
import { performance } from 'node:perf_hooks';
import jsonata from 'jsonata';
import { evaluateExpression, type ExpressionScope } from '../libs/workflow-engine/src/expression';
import { toJsonValue, type JsonValue } from '../libs/workflow-engine/src/json-value';
import { figures } from './bench-stats';

const samples = Number(process.env.BENCH_SAMPLES ?? 20_000);
const warmup = Math.min(2_000, samples);

// A mid-sized instance context: the start input and the outputs of four finished steps (about 7 KB of JSON).
const items = Array.from({ length: 40 }, (_, index) => ({
  sku: `SKU-${index}`,
  qty: (index % 5) + 1,
  price: 10 + index,
  tags: ['fragile', 'priority'].slice(0, index % 3),
}));
const document: JsonValue = {
  input: { orderId: 'o-42', email: 'buyer@example.com', weightKg: 37.5, country: 'DE', items },
  steps: {
    reserve: { output: { id: 'r-1', lines: items.map(({ sku, qty }) => ({ sku, qty, warehouse: 'W1' })) } },
    quote: {
      output: { amount: 1234.5, currency: 'EUR', breakdown: items.map(({ sku, price }) => ({ sku, price })) },
    },
    check: { output: { approved: true, notes: 'x'.repeat(2_000) } },
    notify: { output: { messageId: 'm-9' } },
  },
};

const expressions: ReadonlyArray<[string, string]> = [
  ['choice condition', 'input.weightKg > 30 and input.country = "DE"'],
  ['step reference', 'steps.reserve.output.id'],
  ['aggregate', '$sum(input.items.(qty * price))'],
  [
    'object built from steps',
    '{"order": input.orderId, "amount": steps.quote.output.amount, "lines": $count(steps.reserve.output.lines)}',
  ],
  ['regex', '$contains(input.email, /^[^@]+@[^@]+\\.[a-z]+$/)'],
  ['string building', '$join(input.items.sku, ",") & "/" & $string(steps.quote.output.amount)'],
];

const scopeOf = (doc: JsonValue): ExpressionScope => ({
  document: doc,
  nowMs: Date.parse('2025-01-01T00:00:00Z'),
  instance: { id: 'i-1', workflow: 'bench', version: 1 },
});

// The engine's evaluation before the guard: JSONata's own depth and time checks, then the copy into plain JSON.
async function unguarded(expression: jsonata.Expression, scope: ExpressionScope): Promise<unknown> {
  const nowIso = new Date(scope.nowMs).toISOString();
  const raw: unknown = await expression.evaluate(scope.document, {
    now: () => nowIso,
    millis: () => scope.nowMs,
    instance: scope.instance,
  });
  return toJsonValue(raw, 'result');
}

async function latenciesUs(
  run: (scope: ExpressionScope) => Promise<unknown>,
  scopeFor: () => ExpressionScope,
): Promise<number[]> {
  for (let index = 0; index < warmup; index += 1) await run(scopeFor());
  const latencies: number[] = [];
  for (let index = 0; index < samples; index += 1) {
    const scope = scopeFor();
    const started = performance.now();
    await run(scope);
    latencies.push((performance.now() - started) * 1_000);
  }
  return latencies;
}

async function main(): Promise<void> {
  const seen = scopeOf(document);
  // A fresh copy per evaluation, made outside the timed part.
  const fresh = (): ExpressionScope => scopeOf(structuredClone(document));
  const rows: Array<Record<string, string>> = [];
  for (const [label, source] of expressions) {
    const plain = jsonata(source, { stack: 500, timeout: 1_000 });
    const guarded = (scope: ExpressionScope) => evaluateExpression(source, scope);
    const cells = {
      before: figures(
        'before',
        await latenciesUs(
          (scope) => unguarded(plain, scope),
          () => seen,
        ),
        1,
      ),
      guarded: figures('guarded', await latenciesUs(guarded, () => seen), 1),
      beforeFresh: figures('before, fresh', await latenciesUs((scope) => unguarded(plain, scope), fresh), 1),
      guardedFresh: figures('guarded, fresh', await latenciesUs(guarded, fresh), 1),
    };
    const cell = (name: keyof typeof cells) =>
      `${cells[name].p50Ms.toFixed(1)} / ${cells[name].p99Ms.toFixed(0)}`;
    rows.push({
      expression: label,
      'before p50/p99 µs': cell('before'),
      'guarded p50/p99 µs': cell('guarded'),
      'before, fresh doc': cell('beforeFresh'),
      'guarded, fresh doc': cell('guardedFresh'),
      'guard p50 µs': (cells.guarded.p50Ms - cells.before.p50Ms).toFixed(1),
      'guard p50 µs, fresh': (cells.guardedFresh.p50Ms - cells.beforeFresh.p50Ms).toFixed(1),
    });
  }
  console.log(
    `expression guard: ${samples} evaluations per cell, document of ${JSON.stringify(document).length} bytes`,
  );
  console.table(rows);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
