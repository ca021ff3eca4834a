import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';

const sslRequestCode = 80877103;
const cancelRequestCode = 80877102;

/**
 * Serves one PGlite on the Postgres wire protocol to any number of connections, the way the services'
 * `pg` pools use it. PGlite is one Postgres session, so connections take turns on it: a connection holds the
 * session from its first message until Postgres reports the session idle again (ReadyForQuery with status
 * `I`) — through a whole extended-protocol exchange (Parse … Sync) and through a whole transaction (status
 * `T` or `E`). Other connections' messages wait meanwhile. pglite-socket 0.2.17 takes turns per message
 * outside transactions, which lets two pools' Parse/Bind/Execute interleave on the one unnamed statement
 * ("bind message supplies 1 parameters, but prepared statement requires 2"); hence this server.
 * A connection that goes away inside a transaction has it rolled back before the next one gets the session.
 */
export class PgliteWireServer {
  private server: Server | undefined;
  private owner: Connection | undefined;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly db: PGlite) {}

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((socket) => new Connection(socket, this));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    return `${host}:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves once `connection` holds the session (at once when it already does). */
  async acquire(connection: Connection): Promise<void> {
    while (this.owner !== undefined && this.owner !== connection) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.owner = connection;
  }

  release(connection: Connection): void {
    if (this.owner !== connection) return;
    this.owner = undefined;
    for (const wake of this.waiting.splice(0)) wake();
  }

  exec(message: Uint8Array): Promise<Uint8Array> {
    return this.db.execProtocolRaw(message);
  }

  /** Ends what a vanished connection left open, so the session is idle for the next one. */
  async abandon(connection: Connection, inTransaction: boolean): Promise<void> {
    if (this.owner !== connection) return;
    if (inTransaction) await this.db.exec('ROLLBACK').catch(() => undefined);
    this.release(connection);
  }
}

class Connection {
  private buffer = Buffer.alloc(0);
  private started = false;
  private inTransaction = false;
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: Socket,
    private readonly server: PgliteWireServer,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.work = this.work
        .then(() => this.drain())
        .catch(() => {
          socket.destroy();
        });
    });
    socket.on('close', () => {
      this.work = this.work.then(() => this.server.abandon(this, this.inTransaction));
    });
    socket.on('error', () => socket.destroy());
  }

  private async drain(): Promise<void> {
    for (;;) {
      const message = this.nextMessage();
      if (!message) return;
      if (!this.started && message.length === 8 && message.readInt32BE(4) === sslRequestCode) {
        this.socket.write('N');
        continue;
      }
      if (!this.started && message.length === 16 && message.readInt32BE(4) === cancelRequestCode) {
        // Cancelling is not supported by one embedded session: the request is dropped, as a server may.
        this.socket.end();
        return;
      }
      if (this.started && message[0] === 0x58 /* 'X' Terminate */) {
        await this.server.abandon(this, this.inTransaction);
        this.socket.end();
        return;
      }
      this.started = true;
      await this.server.acquire(this);
      const reply = Buffer.from(await this.server.exec(message));
      if (this.socket.writable) this.socket.write(reply);
      const status = lastReadyStatus(reply);
      if (status !== undefined) {
        this.inTransaction = status !== 'I';
        if (!this.inTransaction) this.server.release(this);
      }
    }
  }

  // Startup messages have no type byte: length (int32, itself included) first; every later one is type + length.
  private nextMessage(): Buffer | undefined {
    const header = this.started ? 5 : 4;
    if (this.buffer.length < header) return undefined;
    const length = this.started ? 1 + this.buffer.readInt32BE(1) : this.buffer.readInt32BE(0);
    if (this.buffer.length < length) return undefined;
    const message = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return message;
  }
}

/** The transaction status of the last ReadyForQuery ('Z') in a reply: `I` idle, `T` in a transaction, `E` failed. */
function lastReadyStatus(reply: Buffer): string | undefined {
  let status: string | undefined;
  for (let at = 0; at + 5 <= reply.length;) {
    const length = reply.readInt32BE(at + 1);
    if (reply[at] === 0x5a /* 'Z' */ && length === 5) status = String.fromCharCode(reply[at + 5]);
    at += 1 + length;
  }
  return status;
}
