import { type RenderedConnectorCall, loadDefinition, transition } from '@keel/workflow-engine';
import { UnsafeServicePathError, resolveServiceUrl } from './service-url';

// A template an outside author could write: the order id comes straight from the source event.
const lookup = loadDefinition({
  name: 'lookup',
  version: 1,
  start: 'fetch',
  steps: {
    fetch: {
      kind: 'task',
      connector: { type: 'http', service: 'orders', method: 'GET', path: '/orders/{{ input.orderId }}' },
      next: 'done',
    },
    done: { kind: 'end', status: 'completed' },
  },
});

/** The path the engine renders for an untrusted order id. */
async function renderedPath(orderId: string): Promise<string> {
  const { commands } = await transition(
    lookup,
    undefined,
    { type: 'start', instanceId: 'i-1', input: { orderId } },
    new Date('2026-12-01T00:00:00Z'),
  );
  const call = commands.flatMap((command) => (command.type === 'executeTask' ? [command.call] : []))[0] as
    Extract<RenderedConnectorCall, { type: 'http' }> | undefined;
  if (!call) throw new Error('no task issued');
  return call.path;
}

const base = 'http://orders.internal:8080/api';

describe('resolveServiceUrl', () => {
  it.each([
    ['42', 'http://orders.internal:8080/api/orders/42'],
    ['42?expand=lines', 'http://orders.internal:8080/api/orders/42?expand=lines'],
    ['a b', 'http://orders.internal:8080/api/orders/a%20b'],
    ['ünïcode', 'http://orders.internal:8080/api/orders/%C3%BCn%C3%AFcode'],
    ['42/lines', 'http://orders.internal:8080/api/orders/42/lines'],
    ['..42', 'http://orders.internal:8080/api/orders/..42'],
  ])('keeps the base path and allows the order id %j', async (orderId, expected) => {
    expect(resolveServiceUrl(base, await renderedPath(orderId)).href).toBe(expected);
  });

  it('keeps a base path given with a trailing slash', () => {
    expect(resolveServiceUrl('http://x.internal/api/', '/rates').href).toBe('http://x.internal/api/rates');
    expect(resolveServiceUrl('http://x.internal', '/rates').href).toBe('http://x.internal/rates');
  });

  const hostileOrderIds: ReadonlyArray<[string, string]> = [
    ['../admin', 'dot segments'],
    ['../../../etc/passwd', 'dot segments'],
    ['..', 'dot segments'],
    ['.', 'dot segments'],
    ['42/../../admin', 'dot segments'],
    ['%2e%2e/admin', 'dot segments'],
    ['%2E%2E%2Fadmin', 'dot segments'],
    ['.%2e/admin', 'dot segments'],
    ['%252e%252e/admin', 'dot segments'],
    ['%25252e%25252e/admin', 'dot segments'],
    ['..%2fadmin', 'dot segments'],
    ['42%2f..%2fadmin', 'dot segments'],
    ['..\\admin', 'a backslash'],
    ['%5c..%5cadmin', 'a backslash'],
    ['42%252fadmin', 'an encoded slash'],
    ['42%2fadmin', 'an encoded slash'],
    ['42\u0000', 'control characters'],
    ['42%00.json', 'control characters'],
    ['42\r\nHost: evil.example', 'control characters'],
    ['42%0d%0aHost:%20evil', 'control characters'],
    ['42\t/evil', 'control characters'],
    ['42#fragment', 'a fragment is not allowed'],
    ['%zz', 'a malformed percent-encoding'],
  ];

  it.each(hostileOrderIds)('refuses the order id %j (%s)', async (orderId, reason) => {
    const path = await renderedPath(orderId);
    expect(() => resolveServiceUrl(base, path)).toThrow(UnsafeServicePathError);
    expect(() => resolveServiceUrl(base, path)).toThrow(reason);
  });

  // Templates that put the whole path in untrusted hands.
  it.each([
    ['//evil.example/steal', 'it names another host'],
    ['/\\evil.example/steal', 'a backslash'],
    ['\\\\evil.example', "it must start with '/'"],
    ['/%2fevil.example', 'it names another host'],
    ['/%5cevil.example', 'a backslash'],
    ['/http://evil.example/', 'it starts with a scheme'],
    ['/javascript:alert(1)', 'it starts with a scheme'],
    ['http://evil.example/', "it must start with '/'"],
    ['evil.example', "it must start with '/'"],
    ['', "it must start with '/'"],
  ])('refuses the rendered path %j (%s)', (path, reason) => {
    expect(() => resolveServiceUrl(base, path)).toThrow(reason);
  });

  it('refuses a base URL that carries a query', () => {
    expect(() => resolveServiceUrl('http://x.internal/api?token=1', '/rates')).toThrow(
      'must not carry a query',
    );
  });
});
