import {
  type ContextQueryRequestInput,
  contextQueryPath,
  contextQueryRequestSchema,
  contextQueryResponseSchema,
} from '@keel/contracts';
import { type KnowledgeChunk } from '@keel/decisioning-domain';
import { sendHttp } from '@keel/http-client';
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
      body = await postJson(
        new URL(contextQueryPath, this.options.baseUrl),
        JSON.stringify(contextQueryRequestSchema.parse(request)),
        authorization,
        this.options.timeoutMs,
      );
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

/** A context query's answers stay small; anything near this is not an answer of the contract. */
const maxAnswerBytes = 4 * 1024 * 1024;

/** One JSON POST over the shared keep-alive pool (`@keel/http-client`: no fetch on this per-decision path). */
async function postJson(
  url: URL,
  body: string,
  authorization: string | undefined,
  timeoutMs: number,
): Promise<unknown> {
  const answer = await sendHttp({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body,
    deadline: Date.now() + timeoutMs,
    maxResponseBytes: maxAnswerBytes,
  });
  if (answer.status < 200 || answer.status > 299) throw new Error(`retrieval answered HTTP ${answer.status}`);
  if (answer.text === undefined) throw new Error(`retrieval answered more than ${maxAnswerBytes} bytes`);
  return JSON.parse(answer.text) as unknown;
}
