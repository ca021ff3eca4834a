import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import type { ISocketFactory } from 'kafkajs';

type Mode = 'forward' | 'refuse' | 'black-hole';

/** Where the proxied server listens: a TCP address, or a Unix socket (a Postgres on the same machine). */
type Target = { readonly host: string; readonly port: number } | { readonly path: string };

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
}

/**
 * A TCP proxy in front of a shared server (Postgres, the broker) that a test can make fail, so outages are
 * injected between one client and the server without stopping the server for everyone else:
 * - `refuse()`: new connections are reset as soon as they arrive (the server is down);
 * - `cut()`: every open connection is reset (the server restarted or crashed);
 * - `blackHole()`: connections stay open and new ones are accepted, but no byte flows either way (a
 *   network partition); bytes wait in the socket buffers;
 * - `heal()`: forwarding resumes, including the bytes held back by a black hole.
 */
export class FaultProxy {
  readonly host = '127.0.0.1';
  private mode: Mode = 'forward';
  private readonly links = new Set<Link>();

  private constructor(
    private readonly server: Server,
    private readonly target: Target,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  /** Listens on an ephemeral port of 127.0.0.1 and forwards to `target`. */
  static async start(target: Target): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, target);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /**
   * A proxy in front of the server a `postgres://…` or `host:port` address names; a `postgres://` host that
   * is a directory (`%2Fvar%2Frun%2Fpostgresql`) names the server's Unix socket in it, as libpq and `pg` read it.
   */
  static async inFrontOf(address: string): Promise<FaultProxy> {
    const { hostname, port } = new URL(address.includes('://') ? address : `tcp://${address}`);
    const socketDirectory = decodeURIComponent(hostname);
    if (socketDirectory.startsWith('/'))
      return FaultProxy.start({ path: `${socketDirectory}/.s.PGSQL.${port || 5432}` });
    return FaultProxy.start({ host: hostname, port: Number(port) });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** `url` with its host and port replaced by the proxy's (credentials, database and options kept). */
  url(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = this.host;
    proxied.port = String(this.port);
    return proxied.toString();
  }

  /**
   * A kafkajs `socketFactory` that sends every broker connection through this proxy. kafkajs learns broker
   * addresses from metadata, so proxying the bootstrap address alone would not route later connections.
   * Only meaningful for a single-broker cluster (every broker address maps to the one target).
   */
  kafkaSocketFactory(): ISocketFactory {
    return ({ onConnect }) => {
      const socket = connect({ host: this.host, port: this.port }, onConnect);
      socket.setKeepAlive(true, 30_000);
      return socket;
    };
  }

  get openConnections(): number {
    return this.links.size;
  }

  refuse(): void {
    this.mode = 'refuse';
  }

  cut(): void {
    for (const link of [...this.links]) this.drop(link);
  }

  blackHole(): void {
    this.mode = 'black-hole';
    for (const { client, upstream } of this.links) {
      client.pause();
      upstream.pause();
    }
  }

  heal(): void {
    this.mode = 'forward';
    for (const { client, upstream } of this.links) {
      client.resume();
      upstream.resume();
    }
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(this.target);
    upstream.on('error', () => undefined);
    const link: Link = { client, upstream };
    this.links.add(link);
    this.forward(client, upstream);
    this.forward(upstream, client);
    client.once('close', (hadError) => this.release(link, hadError));
    upstream.once('close', (hadError) => this.release(link, hadError));
    if (this.mode === 'black-hole') {
      client.pause();
      upstream.pause();
    }
  }

  // By hand rather than `pipe`, which resumes a paused source on drain and would leak through a black hole.
  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (this.mode === 'forward') from.resume();
    });
    from.on('end', () => to.end());
  }

  // One side went away: a clean close (the server's goodbye) is passed on as such, an abort as a reset.
  private release(link: Link, hadError: boolean): void {
    if (hadError) return this.drop(link);
    if (!this.links.delete(link)) return;
    link.client.end();
    link.upstream.end();
  }

  private drop(link: Link): void {
    if (!this.links.delete(link)) return;
    link.client.resetAndDestroy();
    // A Unix socket has no reset to send: the server sees its end closed, as after a crash of the client.
    if ('path' in this.target) link.upstream.destroy();
    else link.upstream.resetAndDestroy();
  }
}
