import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Judgements } from '@keel/retrieval-domain';
import { z } from 'zod';

export interface BeirDocument {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

/** A BEIR dataset: corpus, the queries judged in one split (id and text only), and their judgements. */
export interface BeirDataset {
  readonly corpus: readonly BeirDocument[];
  readonly queries: ReadonlyMap<string, string>;
  readonly qrels: ReadonlyMap<string, Judgements>;
}

const documentSchema = z.object({ _id: z.string(), title: z.string().default(''), text: z.string() });
// Only id and text: query metadata (SciFact's evidence labels) must never reach the system under test.
const querySchema = z.object({ _id: z.string(), text: z.string() });

/** Reads a BEIR folder (`corpus.jsonl` or `corpus.jsonl.gz`, `queries.jsonl`, `qrels/<split>.tsv`, LF or CRLF). */
export async function loadBeirDataset(folder: string, split = 'test'): Promise<BeirDataset> {
  const qrels = new Map<string, Map<string, number>>();
  for (const line of lines(await readFile(join(folder, 'qrels', `${split}.tsv`), 'utf8')).slice(1)) {
    const [queryId, documentId, grade] = line.split('\t');
    if (!qrels.has(queryId)) qrels.set(queryId, new Map());
    qrels.get(queryId)?.set(documentId, Number(grade));
  }
  const queries = new Map<string, string>();
  for (const line of lines(await readFile(join(folder, 'queries.jsonl'), 'utf8'))) {
    const query = querySchema.parse(JSON.parse(line));
    if (qrels.has(query._id)) queries.set(query._id, query.text);
  }
  const gzipped = join(folder, 'corpus.jsonl.gz');
  const corpusText = existsSync(gzipped)
    ? gunzipSync(await readFile(gzipped)).toString('utf8')
    : await readFile(join(folder, 'corpus.jsonl'), 'utf8');
  const corpus = lines(corpusText).map((line) => {
    const document = documentSchema.parse(JSON.parse(line));
    return { id: document._id, title: document.title, text: document.text };
  });
  return { corpus, queries, qrels };
}

function lines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '');
}
