// Indexing rate (chunks/s, MiniLM embedding included) and query latency p50/p99 (query embedding included) on the
// embedded index with BENCH_CHUNKS chunks (default 10,000). Target: p99 ≤ 20 ms. Besides wall-clock latency it
// prints the CPU time per operation and the load average, since the machine is shared: wall p99 there measures
// the neighbours as much as the code, CPU time per query does not. The previous run's figures print beside.
// Run: npm run bench -- retrieval      (BENCH_THREADS: onnxruntime intra-op threads, default 1)
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EmbeddedVectorIndex, MiniLmEmbedder, resolveMiniLmModel } from '@keel/retrieval-data-access';
import { KnowledgeRetrieval } from '@keel/retrieval-domain';
import { figures, loadFigures, printFigures, type RunFigures, saveFigures } from './bench-stats';

const chunkCount = Number(process.env.BENCH_CHUNKS ?? 10_000);
const queryCount = Number(process.env.BENCH_QUERIES ?? 300);
const threads = Number(process.env.BENCH_THREADS ?? 1);

// A fixed vocabulary and a seeded generator: every run indexes the same 10,000 texts.
const vocabulary = (
  'refund shipping parcel invoice payment card subscription account password warehouse return credit customs ' +
  'warranty damage delivery carrier claim outage incident severity escalation engineer ticket export webhook ' +
  'retry limit request status plan upgrade cancel renewal period gift loyalty points price match defect order ' +
  'customer support policy days hours business express standard international duties proof deadline bank dispute'
).split(' ');

function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function sentence(next: () => number, words: number): string {
  const picked = Array.from({ length: words }, () => vocabulary[Math.floor(next() * vocabulary.length)]);
  return `${picked.join(' ')}.`;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const load = () => loadavg()[0].toFixed(1);

void (async () => {
  const next = generator(42);
  const embedder = await MiniLmEmbedder.load(resolveMiniLmModel(join(__dirname, '..')), { threads });
  const retrieval = new KnowledgeRetrieval(new EmbeddedVectorIndex(), embedder);
  const previous = loadFigures('retrieval-latency');
  console.log(`load average at start ${load()} (2 cores shared)`);
  const indexing: number[] = [];
  const cpuPerRun: string[] = [];
  const started = performance.now();
  let cpu = process.cpuUsage();
  for (let i = 0; i < chunkCount; i++) {
    const content = [sentence(next, 12), sentence(next, 14), sentence(next, 10)].join(' ');
    const begun = performance.now();
    await retrieval.index({
      tenant: 'bench',
      documentId: `doc-${i}`,
      version: 1,
      title: `Document ${i}`,
      mediaType: 'text/plain',
      content,
      tags: [],
    });
    indexing.push(performance.now() - begun);
  }
  const indexSeconds = (performance.now() - started) / 1000;
  cpuPerRun.push((cpuMsSince(cpu) / chunkCount).toFixed(2));
  const rows: RunFigures[] = [
    figures(`index ${chunkCount} chunks (MiniLM, ${threads} threads)`, indexing, indexSeconds),
  ];
  for (const mode of ['sparse', 'dense', 'hybrid'] as const) {
    const queries = Array.from({ length: queryCount }, () => sentence(next, 5));
    const latencies: number[] = [];
    const begun = performance.now();
    cpu = process.cpuUsage();
    for (const query of queries) {
      const at = performance.now();
      await retrieval.retrieve({ tenant: 'bench', query, limit: 10, mode, filter: {} });
      latencies.push(performance.now() - at);
    }
    cpuPerRun.push((cpuMsSince(cpu) / queryCount).toFixed(2));
    rows.push(
      figures(
        `query ${mode} over ${chunkCount} chunks (embedding included)`,
        latencies,
        (performance.now() - begun) / 1000,
      ),
    );
  }
  console.log(`load average at end ${load()}`);
  printFigures(rows);
  console.table(
    rows.map((row, i) => {
      const before = previous?.find((old) => old.label === row.label);
      return {
        run: row.label,
        'CPU ms per op': cpuPerRun[i],
        'previous run msg/s': before ? Math.round(before.perSecond) : '—',
        'previous p50 ms': before ? before.p50Ms.toFixed(1) : '—',
        'previous p99 ms': before ? before.p99Ms.toFixed(1) : '—',
      };
    }),
  );
  saveFigures('retrieval-latency', rows);
})();
