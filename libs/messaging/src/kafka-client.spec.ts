import { type AddressInfo, type Server, Socket, createServer } from 'node:net';
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
  afterEach(() => jest.restoreAllMocks());

  const connected = (open: ReturnType<typeof brokerSockets>) =>
    new Promise<Socket>((resolve) => {
      const socket: Socket = open({ host: '127.0.0.1', port, ssl: {}, onConnect: () => resolve(socket) });
    });

  it('opens a plain TCP connection with Nagle off', async () => {
    const setNoDelay = jest.spyOn(Socket.prototype, 'setNoDelay');
    const socket = await connected(brokerSockets());
    expect(setNoDelay.mock.contexts).toContain(socket);
    expect(setNoDelay).toHaveBeenCalledWith(true);
    socket.destroy();
  });

  it('turns Nagle off on what a given factory opens', async () => {
    const opened: Socket[] = [];
    const open = brokerSockets(({ host, port: at, onConnect }) => {
      const socket = new Socket().connect(at, host, onConnect);
      opened.push(socket);
      jest.spyOn(socket, 'setNoDelay');
      return socket;
    });
    const socket = await connected(open);
    expect(opened).toEqual([socket]);
    expect(socket.setNoDelay).toHaveBeenCalledWith(true);
    socket.destroy();
  });
});
