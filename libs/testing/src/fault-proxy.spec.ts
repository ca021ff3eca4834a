import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { FaultProxy } from './fault-proxy';

describe('FaultProxy', () => {
  let echo: Server;
  let proxy: FaultProxy;
  const clients: Socket[] = [];

  beforeEach(async () => {
    echo = createServer((socket) => {
      socket.on('error', () => undefined); // the proxy resets it when cutting
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
    proxy = await FaultProxy.inFrontOf(`127.0.0.1:${(echo.address() as AddressInfo).port}`);
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await proxy.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  async function open(): Promise<Socket> {
    const socket = connect({ host: proxy.host, port: proxy.port });
    clients.push(socket);
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return socket;
  }

  /** What arrives on the socket within `ms`. */
  function received(socket: Socket, ms: number): Promise<string> {
    return new Promise((resolve) => {
      let text = '';
      const collect = (chunk: Buffer) => (text += chunk.toString());
      socket.on('data', collect);
      setTimeout(() => {
        socket.off('data', collect);
        resolve(text);
      }, ms);
    });
  }

  const closed = (socket: Socket) =>
    new Promise<boolean>((resolve) => socket.once('close', (hadError) => resolve(hadError)));

  it('forwards both ways', async () => {
    const socket = await open();
    const reply = received(socket, 200);
    socket.write('ping');
    expect(await reply).toBe('ping');
    expect(proxy.openConnections).toBe(1);
  });

  it('cut resets the open connections, and the proxy keeps accepting new ones', async () => {
    const socket = await open();
    const hadError = closed(socket);
    proxy.cut();
    expect(await hadError).toBe(true);
    expect(proxy.openConnections).toBe(0);

    const next = await open();
    const reply = received(next, 200);
    next.write('again');
    expect(await reply).toBe('again');
  });

  it('refuse resets new connections until healed', async () => {
    proxy.refuse();
    const refused = connect({ host: proxy.host, port: proxy.port });
    clients.push(refused);
    const error = new Promise<NodeJS.ErrnoException>((resolve) => refused.once('error', resolve));
    expect((await error).code).toBe('ECONNRESET');

    proxy.heal();
    const socket = await open();
    const reply = received(socket, 200);
    socket.write('back');
    expect(await reply).toBe('back');
  });

  it('black hole holds every byte back, open and new connections alike, until healed', async () => {
    const before = await open();
    proxy.blackHole();
    const during = await open();
    const silence = Promise.all([received(before, 300), received(during, 300)]);
    before.write('one');
    during.write('two');
    expect(await silence).toEqual(['', '']);

    const replies = Promise.all([received(before, 300), received(during, 300)]);
    proxy.heal();
    expect(await replies).toEqual(['one', 'two']);
  });
});
