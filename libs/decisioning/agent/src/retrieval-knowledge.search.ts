import {
  type ContextQueryRequestInput,
  contextQueryPath,
  contextQueryRequestSchema,
  contextQueryResponseSchema,
} from '@keel/contracts';
import { type KnowledgeChunk } from '@keel/decisioning-domain';
import http from 'node:http';
import https from 'node:https';
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

/** Connections kept open between queries, one pool per protocol. */
const agents = {
  http: new http.Agent({ keepAlive: true }),
  https: new https.Agent({ keepAlive: true }),
};

/**
 * One JSON POST through node:http(s) rather than fetch: a query per decision, and fetch's streams cost the
 * caller ~4 times the CPU of a plain request for a small JSON call on this box (ADR 0022).
 */
function postJson(
  url: URL,
  body: string,
  authorization: string | undefined,
  timeoutMs: number,
): Promise<unknown> {
  const secure = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(
      url,
      {
        method: 'POST',
        agent: secure ? agents.https : agents.http,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(authorization ? { authorization } : {}),
        },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          if (status < 200 || status > 299) {
            reject(new Error(`retrieval answered HTTP ${status}`));
            return;
          }
          try {
            resolve(JSON.parse(Buffer.concat(parts).toString('utf8')));
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
