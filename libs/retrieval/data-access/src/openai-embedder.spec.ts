import { RetrievalError } from '@keel/retrieval-domain';
import { OpenAiEmbedder } from './openai-embedder';
import { floatEmbeddings, ScriptedEmbeddingsServer } from './scripted-embeddings.test-server';

describe('the OpenAI-compatible embedder, against a scripted embeddings server', () => {
  let server: ScriptedEmbeddingsServer | undefined;

  afterEach(async () => server?.stop());

  const embedderAt = (baseURL: string, batchSize = 64) =>
    new OpenAiEmbedder({
      baseURL,
      apiKey: 'test-key',
      model: 'text-embed-test',
      dimensions: 2,
      batchSize,
      maxRetries: 0,
    });

  it('asks for float vectors in batches and returns them in input order', async () => {
    server = await ScriptedEmbeddingsServer.start(({ body }) => ({
      status: 200,
      body: floatEmbeddings(
        body.model,
        body.input.map((text) => [text.length, 1]),
      ),
    }));
    const vectors = await embedderAt(server.baseURL, 2).embed(['a', 'bb', 'ccc'], 'document');
    expect(vectors).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
    expect(server.requests.map((request) => request.body)).toEqual([
      { model: 'text-embed-test', input: ['a', 'bb'], encoding_format: 'float' },
      { model: 'text-embed-test', input: ['ccc'], encoding_format: 'float' },
    ]);
    expect(server.requests[0].authorization).toBe('Bearer test-key');
  });

  it('refuses vectors of the wrong dimension or a missing one as malformed', async () => {
    server = await ScriptedEmbeddingsServer.start(() => ({
      status: 200,
      body: floatEmbeddings('m', [[1, 2, 3]]),
    }));
    await expect(embedderAt(server.baseURL).embed(['a'], 'query')).rejects.toMatchObject({
      code: 'embedding-malformed',
    });
    await expect(embedderAt(server.baseURL).embed(['a', 'b'], 'query')).rejects.toBeInstanceOf(
      RetrievalError,
    );
  });

  it('reports an endpoint that fails as unavailable', async () => {
    server = await ScriptedEmbeddingsServer.start(() => ({
      status: 500,
      body: { error: { message: 'boom' } },
    }));
    await expect(embedderAt(server.baseURL).embed(['a'], 'query')).rejects.toMatchObject({
      code: 'embedder-unavailable',
    });
  });
});
