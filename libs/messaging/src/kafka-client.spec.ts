import { type AddressInfo, type Server, Socket, createServer } from 'node:net';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { brokerSockets } from './kafka-client';

describe('brokerSockets', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const opened: Socket[] = [];
  afterEach(() => {
    jest.restoreAllMocks();
    for (const socket of opened.splice(0)) socket.destroy();
  });

  // kafkajs passes its `ssl` setting as it is: null when the client has none.
  const noTls = null as unknown as TlsOptions;
  const connected = (open: ReturnType<typeof brokerSockets>) =>
    new Promise<Socket>((resolve, reject) => {
      const socket: Socket = open({ host: '127.0.0.1', port, ssl: noTls, onConnect: () => resolve(socket) });
      opened.push(socket);
      socket.once('error', reject);
    });

  it('opens a plain TCP connection with Nagle off', async () => {
    const setNoDelay = jest.spyOn(Socket.prototype, 'setNoDelay');
    const socket = await connected(brokerSockets());
    expect(setNoDelay.mock.contexts).toContain(socket);
    expect(setNoDelay).toHaveBeenCalledWith(true);
  });

  it('turns Nagle off on what a given factory opens', async () => {
    const made: Socket[] = [];
    const open = brokerSockets(({ host, port: at, onConnect }) => {
      const socket = new Socket().connect(at, host, onConnect);
      made.push(socket);
      jest.spyOn(socket, 'setNoDelay');
      return socket;
    });
    const socket = await connected(open);
    expect(made).toEqual([socket]);
    expect(socket.setNoDelay).toHaveBeenCalledWith(true);
  });

  it('refuses TLS settings rather than open plain TCP to a TLS listener', () => {
    const open = brokerSockets();
    expect(() =>
      open({ host: '127.0.0.1', port, ssl: { rejectUnauthorized: true }, onConnect: () => undefined }),
    ).toThrow(/plain TCP connections only/);
  });
});
