// Retrieval quality on a BEIR folder: nDCG@10 and recall@100 (as BEIR / pytrec_eval compute them) for BM25 alone,
// MiniLM alone and hybrid (RRF), beside the published SciFact figures; plus the indexing rate.
// Run: npm run bench -- retrieval   (default folder: bench/fixtures/mini-beir)
//      RETRIEVAL_BEIR_DIR=../shared/data/scifact npm run bench -- retrieval
//      node -r ./tools/register.js bench/retrieval-quality.bench.ts <beir-folder>
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  EmbeddedVectorIndex,
  evaluateBeir,
  indexBeirCorpus,
  loadBeirDataset,
  MiniLmEmbedder,
  resolveMiniLmModel,
} from '@keel/retrieval-data-access';
import { defaultKnowledgeRetrieval, KnowledgeRetrieval } from '@keel/retrieval-domain';
import type { RetrievalMode } from '@keel/contracts';

const folder = process.argv[2] ?? process.env.RETRIEVAL_BEIR_DIR ?? join(__dirname, 'fixtures', 'mini-beir');
const threads = Number(process.env.BENCH_THREADS ?? 2);

// Anserini regressions (castorini/anserini, beir-v1.0.0-scifact.*.yaml); MiniLM alone from MTEB.
const publishedSciFact: Record<RetrievalMode, string> = {
  sparse: 'BM25 0.665 (Anserini multifield) / 0.679 (flat)',
  dense: 'all-MiniLM-L6-v2 ≈ 0.64 (MTEB)',
  hybrid: '— (targets: BM25 ≥ 0.665, hybrid ≥ 0.69)',
};

void (async () => {
  const dataset = await loadBeirDataset(folder);
  const embedder = await MiniLmEmbedder.load(resolveMiniLmModel(join(__dirname, '..')), { threads });
  const retrieval = new KnowledgeRetrieval(new EmbeddedVectorIndex(), embedder, defaultKnowledgeRetrieval);
  console.log(`== ${folder}: ${dataset.corpus.length} documents, ${dataset.queries.size} judged queries`);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const chunks = await indexBeirCorpus(retrieval, dataset);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  // CPU time per chunk beside the wall-clock rate: on a shared machine the rate measures the neighbours too.
  console.log(
    `indexed ${chunks} chunks in ${seconds.toFixed(1)} s: ${(chunks / seconds).toFixed(1)} chunks/s, ` +
      `${((used.user + used.system) / 1000 / chunks).toFixed(2)} ms CPU per chunk (MiniLM, ${threads} threads, ` +
      `load average ${loadavg()[0].toFixed(1)})`,
  );
  const rows = [];
  for (const mode of ['sparse', 'dense', 'hybrid'] as const) {
    const quality = await evaluateBeir(retrieval, dataset, mode);
    rows.push({
      run: { sparse: 'BM25 (Qdrant-identical vectors)', dense: 'MiniLM dense', hybrid: 'hybrid RRF k=2' }[
        mode
      ],
      'nDCG@10': quality.ndcgAt10.toFixed(4),
      'recall@100': quality.recallAt100.toFixed(4),
      queries: quality.queries,
      'published (SciFact)': publishedSciFact[mode],
    });
  }
  console.table(rows);
})();
