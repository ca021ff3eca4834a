// Indexing rate (chunks/s, MiniLM embedding included) and query latency p50/p99 (query embedding included) on the
// embedded index with BENCH_CHUNKS chunks (default 10,000). Target: p99 ≤ 20 ms.
// Run: npm run bench -- retrieval
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EmbeddedVectorIndex, MiniLmEmbedder, resolveMiniLmModel } from '@keel/retrieval-data-access';
import { KnowledgeRetrieval } from '@keel/retrieval-domain';
import { figures, printFigures, saveFigures } from './bench-stats';

const chunkCount = Number(process.env.BENCH_CHUNKS ?? 10_000);
const queryCount = Number(process.env.BENCH_QUERIES ?? 300);
const threads = Number(process.env.BENCH_THREADS ?? 2);

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

void (async () => {
  const next = generator(42);
  const embedder = await MiniLmEmbedder.load(resolveMiniLmModel(join(__dirname, '..')), { threads });
  const retrieval = new KnowledgeRetrieval(new EmbeddedVectorIndex(), embedder);
  const indexing: number[] = [];
  const started = performance.now();
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
  const rows = [figures(`index ${chunkCount} chunks (MiniLM, ${threads} threads)`, indexing, indexSeconds)];
  for (const mode of ['sparse', 'dense', 'hybrid'] as const) {
    const latencies: number[] = [];
    const begun = performance.now();
    for (let q = 0; q < queryCount; q++) {
      const query = sentence(next, 5);
      const at = performance.now();
      await retrieval.retrieve({ tenant: 'bench', query, limit: 10, mode, filter: {} });
      latencies.push(performance.now() - at);
    }
    rows.push(
      figures(
        `query ${mode} over ${chunkCount} chunks (embedding included)`,
        latencies,
        (performance.now() - begun) / 1000,
      ),
    );
  }
  printFigures(rows);
  saveFigures('retrieval-latency', rows);
})();
