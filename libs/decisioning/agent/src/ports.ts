import { type CaseHistoryEntry, type DecisionTrigger, type KnowledgeChunk } from '@keel/decisioning-domain';

/** Retrieval as the agent needs it (ADR 0007 is the production adapter's wire contract). */
export interface KnowledgeSearch {
  search(query: {
    readonly tenant: string;
    readonly query: string;
    readonly limit: number;
  }): Promise<readonly KnowledgeChunk[]>;
}

/** The case memory: the case's earlier events, oldest first. */
export interface CaseHistory {
  eventsOf(trigger: DecisionTrigger, limit: number): Promise<readonly CaseHistoryEntry[]>;
}

/** An OpenAI-compatible chat completion request, as the agent builds it. */
export type ChatRequest = Record<string, unknown>;

/**
 * The chat model. `complete` resolves with the parsed response body or rejects with a `DecisioningAgentError`
 * (`model-unavailable`) whose message says why; the runtime validates the body itself.
 */
export interface ChatModel {
  /** The model id, as named in records. */
  readonly model: string;
  complete(request: ChatRequest, signal: AbortSignal): Promise<unknown>;
}

/** Milliseconds on a monotonic clock. */
export type MonotonicClock = () => number;
