import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EmbeddingsRequest {
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: { model: string; input: string[]; encoding_format?: string };
}

/** What the server answers to one request: a status and a JSON body. */
export type EmbeddingsScript = (request: EmbeddingsRequest) => { status: number; body: unknown };

/**
 * A scripted OpenAI-compatible embeddings server for tests (not a model): `POST /v1/embeddings` is answered by
 * the test's script, every request is recorded. Reached through the real `openai` client by its base URL,
 * the way Ollama or vLLM are.
 */
export class ScriptedEmbeddingsServer {
  readonly requests: EmbeddingsRequest[] = [];

  private constructor(
    private readonly server: Server,
    readonly baseURL: string,
  ) {}

  static async start(script: EmbeddingsScript): Promise<ScriptedEmbeddingsServer> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const scripted = new ScriptedEmbeddingsServer(
      server,
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    );
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      void readBody(request).then((text) => {
        const recorded: EmbeddingsRequest = {
          path: request.url ?? '',
          authorization: request.headers.authorization,
          body: JSON.parse(text) as EmbeddingsRequest['body'],
        };
        scripted.requests.push(recorded);
        const { status, body } =
          request.url === '/v1/embeddings' ? script(recorded) : { status: 404, body: { error: 'no route' } };
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    return scripted;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

/** An OpenAI embeddings answer with float vectors, listed in reverse to prove the client orders by index. */
export function floatEmbeddings(model: string, vectors: number[][]): unknown {
  return {
    object: 'list',
    model,
    data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })).reverse(),
    usage: { prompt_tokens: vectors.length, total_tokens: vectors.length },
  };
}
