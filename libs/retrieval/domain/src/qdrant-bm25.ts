import murmurhash from 'murmurhash';
import { newStemmer } from 'snowball-stemmers';
import type { SparseVector } from './sparse-vector';

// Qdrant's English stopwords (lib/segment/.../stop_words/english.rs), the NLTK list.
const englishStopwords = new Set(
  `i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves he him his
  himself she she's her hers herself it it's its itself they them their theirs themselves what which who whom this
  that that'll these those am is are was were be been being have has had having do does did doing a an the and but
  if or because as until while of at by for with about against between into through during before after above
  below to from up down in out on off over under again further then once here there when where why how all any
  both each few more most other some such no nor not only own same so than too very s t can will just don don't
  should should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn hadn't hasn
  hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan shan't shouldn shouldn't wasn
  wasn't weren weren't won won't wouldn wouldn't`.split(/\s+/),
);

const englishStemmer = newStemmer('english');

// Stems by word: the Snowball stemmer is most of a BM25 vector's cost, and texts repeat their words. Bounded,
// and a pure function's memo: the same word always has the same stem.
const stems = new Map<string, string>();
const stemCacheLimit = 100_000;

function stemOf(token: string): string {
  let stem = stems.get(token);
  if (stem === undefined) {
    if (stems.size >= stemCacheLimit) stems.clear();
    stem = englishStemmer.stem(token);
    stems.set(token, stem);
  }
  return stem;
}

// Qdrant's `word` tokenizer splits on every char that is not `char::is_alphanumeric` (Alphabetic or Numeric).
const nonWordCharacters = /[^\p{Alphabetic}\p{N}]+/u;

/** Qdrant's BM25 defaults (`Bm25Config`): term-frequency saturation, length normalisation, expected length. */
export interface Bm25Parameters {
  readonly k: number;
  readonly b: number;
  readonly avgLen: number;
  /** Qdrant lowercases by default; `false` keeps case for stopwords and stems, as Qdrant's `lowercase: false`. */
  readonly lowercase: boolean;
}

export const qdrantBm25Defaults: Bm25Parameters = { k: 1.2, b: 0.75, avgLen: 256, lowercase: true };

/**
 * The tokens Qdrant's BM25 model indexes for `text`: word tokenizer, lowercasing, English stopwords removed,
 * Snowball English stems — in that order, as Qdrant's `TokensProcessor` applies them.
 */
export function qdrantBm25Tokens(text: string, lowercase = qdrantBm25Defaults.lowercase): string[] {
  const tokens: string[] = [];
  for (const word of text.split(nonWordCharacters)) {
    if (word === '') continue;
    const token = lowercase ? word.toLowerCase() : word;
    if (englishStopwords.has(token)) continue;
    tokens.push(stemOf(token));
  }
  return tokens;
}

/** Qdrant's token id: murmur3_32 of the UTF-8 bytes with seed 0, read as i32, absolute value as u32. */
export function qdrantBm25TokenId(token: string): number {
  return Math.abs(murmurhash.v3(token, 0) | 0);
}

/**
 * A document's BM25 vector as Qdrant's `doc_embed` computes it: per distinct token
 * `tf·(k+1) / (tf + k·(1 − b + b·len/avg_len))`, rounded to f32, indices ascending. IDF is not in the
 * vector: the collection applies it (`modifier: 'idf'`), and so does the embedded index.
 */
export function bm25DocumentVector(
  text: string,
  parameters: Bm25Parameters = qdrantBm25Defaults,
): SparseVector {
  const tokens = qdrantBm25Tokens(text, parameters.lowercase);
  const counts = new Map<string, number>();
  for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  const { k, b, avgLen } = parameters;
  const lengthNorm = 1 - b + (b * tokens.length) / avgLen;
  const weights = new Map<number, number>();
  for (const [token, count] of counts) {
    weights.set(qdrantBm25TokenId(token), Math.fround((count * (k + 1)) / (k * lengthNorm + count)));
  }
  const indices = [...weights.keys()].sort((x, y) => x - y);
  return { indices, values: indices.map((index) => weights.get(index) ?? 0) };
}

/** A query's BM25 vector as Qdrant's `search_embed`: distinct token ids in order of appearance, weight 1. */
export function bm25QueryVector(text: string, parameters: Bm25Parameters = qdrantBm25Defaults): SparseVector {
  const indices = [...new Set(qdrantBm25Tokens(text, parameters.lowercase).map(qdrantBm25TokenId))];
  return { indices, values: indices.map(() => 1) };
}

/** Qdrant's IDF modifier: `ln((N − n + 0.5)/(n + 0.5) + 1)` over N points with the vector, n containing the term. */
export function bm25Idf(pointCount: number, pointsWithTerm: number): number {
  return Math.log((pointCount - pointsWithTerm + 0.5) / (pointsWithTerm + 0.5) + 1);
}
