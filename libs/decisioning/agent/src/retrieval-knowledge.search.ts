import {
  type ContextQueryRequestInput,
  contextQueryPath,
  contextQueryRequestSchema,
  contextQueryResponseSchema,
} from '@keel/contracts';
import { type KnowledgeChunk } from '@keel/decisioning-domain';
import { DecisioningAgentError } from './decisioning-agent.error';
import { type KnowledgeSearch } from './ports';

export interface RetrievalKnowledgeSearchOptions {
  /** The retrieval service's base URL, e.g. `http://retrieval:3002`. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  /**
   * The `Authorization` header for a query of `tenant`: retrieval admits a token of that tenant only, so the
   * agent asks for one per query (signed by the service, short-lived) instead of holding a key to all tenants.
   */
  readonly authorization?: (tenant: string) => Promise<string>;
}

/** `search_knowledge` on the retrieval service's context-query API (ADR 0007), both directions validated. */
export class RetrievalKnowledgeSearch implements KnowledgeSearch {
  constructor(private readonly options: RetrievalKnowledgeSearchOptions) {}

  /** `tenant` comes from the event's envelope, so a case can never choose whose knowledge it reads. */
  async search(query: { tenant: string; query: string; limit: number }): Promise<readonly KnowledgeChunk[]> {
    const request: ContextQueryRequestInput = {
      tenant: query.tenant,
      query: query.query,
      limit: query.limit,
    };
    let body: unknown;
    try {
      const authorization = await this.options.authorization?.(query.tenant);
      const response = await fetch(new URL(contextQueryPath, this.options.baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify(contextQueryRequestSchema.parse(request)),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (!response.ok) throw new Error(`retrieval answered HTTP ${response.status}`);
      body = await response.json();
    } catch (error) {
      throw new DecisioningAgentError(
        'knowledge-unavailable',
        error instanceof Error ? error.message : String(error),
        {
          cause: error,
        },
      );
    }
    const parsed = contextQueryResponseSchema.safeParse(body);
    if (!parsed.success)
      throw new DecisioningAgentError('knowledge-unavailable', 'retrieval answered outside the contract');
    return parsed.data.chunks.map(({ documentId, version, chunkId, chunkHash, score, title, text }) => ({
      documentId,
      version,
      chunkId,
      chunkHash,
      score,
      title,
      text,
    }));
  }
}
