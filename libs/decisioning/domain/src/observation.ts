import { type ContextChunk } from '@keel/contracts';
import { type JsonObject } from './decision-trigger';
import { type LookupCall } from './tool-catalogue';

/** A retrieved chunk as the agent sees it: provenance for the record, text for the model. */
export type KnowledgeChunk = Pick<
  ContextChunk,
  'documentId' | 'version' | 'chunkId' | 'chunkHash' | 'score' | 'title' | 'text'
>;

/** One earlier event of the case, from the case memory. */
export interface CaseHistoryEntry {
  readonly eventId: string;
  readonly eventType: string;
  readonly occurredAt: string;
  readonly attributes: JsonObject;
}

/** What a lookup returned. A lookup that failed is an observation too: the agent decides without it. */
export type LookupResult =
  | { readonly kind: 'knowledge'; readonly chunks: readonly KnowledgeChunk[] }
  | { readonly kind: 'case-history'; readonly events: readonly CaseHistoryEntry[] }
  | { readonly kind: 'unavailable'; readonly reason: string };

export interface Observation {
  readonly call: LookupCall;
  readonly result: LookupResult;
}

export function chunksIn(observations: readonly Observation[]): KnowledgeChunk[] {
  const seen = new Map<string, KnowledgeChunk>();
  for (const { result } of observations) {
    if (result.kind !== 'knowledge') continue;
    for (const chunk of result.chunks) if (!seen.has(chunk.chunkId)) seen.set(chunk.chunkId, chunk);
  }
  return [...seen.values()];
}

export function historyIn(observations: readonly Observation[]): CaseHistoryEntry[] {
  const seen = new Map<string, CaseHistoryEntry>();
  for (const { result } of observations) {
    if (result.kind !== 'case-history') continue;
    for (const event of result.events) if (!seen.has(event.eventId)) seen.set(event.eventId, event);
  }
  return [...seen.values()];
}
