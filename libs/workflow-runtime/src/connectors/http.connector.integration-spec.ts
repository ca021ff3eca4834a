import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpConnector } from '@keel/workflow-runtime';

describe('HttpConnector against a local HTTP server', () => {
  let server: Server;
  let connector: HttpConnector;
  let connectorWithBase: HttpConnector;
  const seen: Array<{ key: string | undefined; body: string; url: string | undefined }> = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        seen.push({ key: request.headers['idempotency-key'] as string | undefined, body, url: request.url });
        const redirect = /\/redirect\?to=(.*)$/.exec(request.url ?? '')?.[1];
        if (redirect !== undefined) {
          response.writeHead(302, { location: decodeURIComponent(redirect) });
          return void response.end();
        }
        if (request.url?.startsWith('/api/large')) {
          response.writeHead(200, { 'content-type': 'application/json' });
          return void response.end(JSON.stringify({ padding: 'x'.repeat(2048) }));
        }
        const status = Number(/\/status\/(\d+)/.exec(request.url ?? '')?.[1] ?? 200);
        if (request.url?.startsWith('/slow')) return void setTimeout(() => response.end('{}'), 500);
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(
          status === 204
            ? undefined
            : JSON.stringify({ echoed: body ? (JSON.parse(body) as unknown) : null }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    connector = new HttpConnector({ api: origin });
    connectorWithBase = new HttpConnector({ api: `${origin}/api` }, { maxResponseBytes: 1024 });
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const context = {
    idempotencyKey: 'wf-1:reserve:run1',
    timeoutMs: 200,
    workflow: 'order-routing',
    caseId: 'c',
    tenant: 't',
    correlationId: 'c',
  };
  const call = (path: string) => ({
    type: 'http' as const,
    service: 'api',
    method: 'POST' as const,
    path,
    body: { n: 1 },
  });

  it('sends the idempotency key and JSON body, and returns the JSON answer', async () => {
    await expect(connector.execute(call('/status/200'), context)).resolves.toEqual({
      outcome: 'succeeded',
      output: { echoed: { n: 1 } },
    });
    expect(seen.at(-1)).toEqual({ key: 'wf-1:reserve:run1', body: '{"n":1}', url: '/status/200' });
  });

  it('treats throttling and server errors as retryable, other client errors as permanent', async () => {
    await expect(connector.execute(call('/status/503'), context)).resolves.toMatchObject({
      outcome: 'failed',
      retryable: true,
    });
    await expect(connector.execute(call('/status/429'), context)).resolves.toMatchObject({
      outcome: 'failed',
      retryable: true,
    });
    await expect(connector.execute(call('/status/422'), context)).resolves.toMatchObject({
      outcome: 'failed',
      retryable: false,
      error: expect.stringMatching(/answered 422/) as unknown,
    });
  });

  it('reports a timeout when the far side is slower than the task allows', async () => {
    await expect(connector.execute(call('/slow'), context)).resolves.toEqual({ outcome: 'timedOut' });
  });

  it('fails permanently for a service with no configured base URL', async () => {
    await expect(connector.execute({ ...call('/x'), service: 'unknown' }, context)).resolves.toMatchObject({
      outcome: 'failed',
      retryable: false,
    });
  });

  it("keeps the service's base path", async () => {
    await expect(connectorWithBase.execute(call('/rates?x=1'), context)).resolves.toMatchObject({
      outcome: 'succeeded',
    });
    expect(seen.at(-1)?.url).toBe('/api/rates?x=1');
  });

  it('refuses a path that leaves the service without sending anything', async () => {
    const before = seen.length;
    for (const path of ['//evil.example/x', '/../status/200', '/%2e%2e/status/200', '/\\evil.example']) {
      await expect(connectorWithBase.execute(call(path), context)).resolves.toMatchObject({
        outcome: 'failed',
        retryable: false,
        error: expect.stringContaining('refused') as unknown,
      });
    }
    expect(seen).toHaveLength(before);
  });

  it('follows a redirect under the service base and refuses one that leaves it', async () => {
    await expect(
      connectorWithBase.execute(call(`/redirect?to=${encodeURIComponent('/api/status/200')}`), context),
    ).resolves.toMatchObject({ outcome: 'succeeded' });
    expect(seen.at(-1)?.url).toBe('/api/status/200');
    for (const target of ['/status/200', 'http://evil.example/api/x', '/api/../status/200']) {
      const before = seen.length;
      await expect(
        connectorWithBase.execute(call(`/redirect?to=${encodeURIComponent(target)}`), context),
      ).resolves.toMatchObject({ outcome: 'failed', retryable: false });
      expect(seen).toHaveLength(before + 1);
    }
  });

  it('fails for good on a response larger than the cap', async () => {
    await expect(connectorWithBase.execute(call('/large'), context)).resolves.toMatchObject({
      outcome: 'failed',
      retryable: false,
      error: expect.stringContaining('larger than 1024 bytes') as unknown,
    });
  });

  it('fails for good, sending nothing, when a header rendered from data cannot be sent', async () => {
    const before = seen.length;
    await expect(
      connector.execute(
        { ...call('/status/200'), headers: { 'x-order-id': 'o-1\r\nx-injected: 1' } },
        context,
      ),
    ).resolves.toMatchObject({ outcome: 'failed', retryable: false });
    expect(seen).toHaveLength(before);
  });
});
