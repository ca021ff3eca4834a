import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { GovernanceArtifacts } from './governance-artifacts';

type Route = (request: IncomingMessage, body: string) => { status: number; body?: unknown };

/** A stand-in for governance's two endpoints, answering what each test scripts. */
async function governance(route: Route): Promise<{ url: string; server: Server; seen: string[] }> {
  const seen: string[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push(`${request.method} ${request.url} ${request.headers.authorization ?? '-'}`);
      const answer = route(request, body);
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen };
}

const content = { name: 'order-routing', version: 2 };

describe('GovernanceArtifacts', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    servers.length = 0;
  });

  async function client(route: Route, now = () => 0) {
    const started = await governance(route);
    servers.push(started.server);
    return {
      artifacts: new GovernanceArtifacts({ baseUrl: started.url, apiKey: 'kid.secret', timeoutMs: 2_000, now }),
      seen: started.seen,
    };
  }

  it('exchanges the API key once for a token it reuses until 80% of its life, then renews it', async () => {
    let clock = 0;
    let minted = 0;
    const { artifacts, seen } = await client(
      (request, body) => {
        if (request.url === '/v1/tokens') {
          expect(JSON.parse(body)).toEqual({ apiKey: 'kid.secret' });
          minted += 1;
          return { status: 200, body: { access_token: `t${minted}`, token_type: 'Bearer', expires_in: 100 } };
        }
        return { status: 200, body: { kind: 'workflow-template', version: 2, content } };
      },
      () => clock,
    );
    expect(await artifacts.content('workflow-template', 'order-routing', 2)).toEqual(content);
    clock = 79_000;
    await artifacts.content('workflow-template', 'order-routing', 2);
    clock = 81_000;
    await artifacts.content('workflow-template', 'order-routing', 2);
    expect(seen).toEqual([
      'POST /v1/tokens -',
      'GET /v1/artifacts/workflow-template/order-routing/versions/2 Bearer t1',
      'GET /v1/artifacts/workflow-template/order-routing/versions/2 Bearer t1',
      'POST /v1/tokens -',
      'GET /v1/artifacts/workflow-template/order-routing/versions/2 Bearer t2',
    ]);
  });

  it('retries once with a fresh token when governance refuses the one it holds', async () => {
    let minted = 0;
    const { artifacts } = await client((request) => {
      if (request.url === '/v1/tokens') {
        minted += 1;
        return { status: 200, body: { access_token: `t${minted}`, expires_in: 900 } };
      }
      return request.headers.authorization === 'Bearer t1'
        ? { status: 401, body: { code: 'invalid-token' } }
        : { status: 200, body: { content } };
    });
    expect(await artifacts.content('workflow-template', 'order-routing', 2)).toEqual(content);
    expect(minted).toBe(2);
  });

  it('names what went wrong so the consumer holds or dead-letters the release', async () => {
    const missing = await client((request) =>
      request.url === '/v1/tokens'
        ? { status: 200, body: { access_token: 't', expires_in: 900 } }
        : { status: 404, body: { code: 'not-found' } },
    );
    await expect(missing.artifacts.content('prompt', 'decide', 9)).rejects.toMatchObject({
      code: 'artifact-missing',
      consumerHandling: 'dead-letter',
    });
    const badKey = await client(() => ({ status: 401, body: { code: 'invalid-api-key' } }));
    await expect(badKey.artifacts.content('prompt', 'decide', 1)).rejects.toMatchObject({
      code: 'governance-refused',
      consumerHandling: 'wait',
    });
    const overloaded = await client(() => ({ status: 503 }));
    await expect(overloaded.artifacts.content('prompt', 'decide', 1)).rejects.toMatchObject({
      code: 'governance-unavailable',
      consumerHandling: 'wait',
    });
    const down = new GovernanceArtifacts({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k', timeoutMs: 1_000 });
    await expect(down.content('prompt', 'decide', 1)).rejects.toMatchObject({ code: 'governance-unavailable' });
  });
});
