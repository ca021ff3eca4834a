import {
  type KnowledgeRetrieval,
  type RetrievalQuality,
  retrievalQuality,
  type ScoredDocument,
} from '@keel/retrieval-domain';
import type { RetrievalMode } from '@keel/contracts';
import type { BeirDataset } from './beir-dataset';

export const beirTenant = 'beir';

/** Indexes a BEIR corpus as one tenant's plain-text documents, version 1; returns the number of chunks. */
export async function indexBeirCorpus(retrieval: KnowledgeRetrieval, dataset: BeirDataset): Promise<number> {
  let chunks = 0;
  for (const document of dataset.corpus) {
    const entry = await retrieval.index({
      tenant: beirTenant,
      documentId: document.id,
      version: 1,
      title: document.title,
      mediaType: 'text/plain',
      content: document.text === '' ? document.title : document.text,
      tags: [],
    });
    chunks += entry.chunks.length;
  }
  return chunks;
}

/**
 * Runs every judged query through retrieval in one mode and scores the run as BEIR does: a document's score is
 * its best chunk's, the top 100 documents count. Retrieval sees the query text only.
 */
export async function evaluateBeir(
  retrieval: KnowledgeRetrieval,
  dataset: BeirDataset,
  mode: RetrievalMode,
): Promise<RetrievalQuality> {
  const runs = new Map<string, ScoredDocument[]>();
  for (const [queryId, text] of dataset.queries) {
    const chunks = await retrieval.retrieve({
      tenant: beirTenant,
      query: text,
      limit: 100,
      mode,
      filter: {},
    });
    const best = new Map<string, number>();
    for (const chunk of chunks) if (!best.has(chunk.documentId)) best.set(chunk.documentId, chunk.score);
    runs.set(
      queryId,
      [...best].map(([documentId, score]) => ({ documentId, score })),
    );
  }
  return retrievalQuality(runs, dataset.qrels);
}
