import { Client, type ClientConfig, Query as PgQuery, type QueryConfig, type QueryResult } from 'pg';

/** Named statements a connection keeps by default; the least recently used one is deallocated past it. */
export const preparedStatementsPerConnection = 128;

/** Statement texts a pool remembers by default (one copy each), least recently used forgotten past it. */
export const statementTextsPerPool = 1024;

/**
 * Runs of a named statement after which it is prepared afresh; the next time after ten times as many runs,
 * and from `replanEveryRunsAtMost` runs on at that interval.
 */
export const firstReplanAfterRuns = 100;
const replanEveryRunsAtMost = 100_000;

/**
 * A statement's name on a connection; how often its text ran on the connection before the run at hand (named
 * or not, since it was last named afresh after an eviction or a refusal); when it is prepared afresh.
 */
interface Prepared {
  readonly name: string;
  runs: number;
  readonly replanAt: number;
}

/** The part of node-pg's connection a statement's name is let go on, and a transaction begun on. */
interface StatementConnection {
  readonly parsedStatements: Record<string, string | undefined>;
  readonly submittedNamedStatements: Record<string, string | undefined>;
  readonly stream: { cork?: () => void; uncork?: () => void };
  close(message: { type: 'S'; name: string }): void;
  parse(message: { name: string; text: string; types: never[] }): void;
  bind(message: { statement: string }): void;
  execute(message: Record<string, never>): void;
  sync(): void;
}

/** How TypeORM and the services begin and end a transaction. */
const transactionBegins: ReadonlySet<unknown> = new Set(['START TRANSACTION', 'BEGIN']);
const transactionEnds: ReadonlySet<unknown> = new Set(['COMMIT', 'ROLLBACK']);

/** The prepared `START TRANSACTION` a held begin runs as, ahead of its transaction's first statement. */
const beginStatement = { name: 'keel_begin', text: 'START TRANSACTION' } as const;

/** Postgres naming a prepared statement it does not hold (a `DEALLOCATE ALL` or `DISCARD ALL` meanwhile). */
const unknownStatement = '26000';

/**
 * Prepares the begin as a connection's first message after it connects, without running it: its own round
 * trip, once per connection. node-pg books the name from the `ParseComplete` under this query's name and
 * text; a failure leaves it unbooked, and transactions then send a plain begin.
 */
class PrepareBegin {
  readonly name = beginStatement.name;
  readonly text = beginStatement.text;
  callback?: (error?: Error) => void;

  submit(connection: StatementConnection): void {
    connection.stream.cork?.();
    connection.parse({ name: this.name, text: this.text, types: [] });
    connection.sync();
    connection.stream.uncork?.();
  }

  handleReadyForQuery(): void {
    this.callback?.();
  }

  handleError(error: Error): void {
    this.callback?.(error);
  }
}

/** What node-pg answers a statement without rows with, for a begin or an end that was not sent. */
function noRows(command: string): QueryResult {
  return { command, rowCount: null, oid: 0, fields: [], rows: [] };
}

/**
 * A transaction's first statement with its `BEGIN` in front, in one write and one round trip: Bind and
 * Execute of the prepared `keel_begin`, then the statement's own messages and their Sync. Until that Sync the
 * server skips everything after a failure, so the statement never runs when the begin fails, and a statement
 * that fails leaves the transaction begun and failed — as when each went on its own. The begin's answer is
 * its `CommandComplete` (no Parse, so no `ParseComplete` that node-pg would book for the statement's name);
 * everything after it is the statement's.
 */
class AfterBegin {
  /** Whether the begin ran: an error before that is the begin's own, and the statement did not run. */
  begun = false;

  constructor(private readonly statement: PgQuery) {}

  /** node-pg books a parsed or failed statement under the active query's name and text. */
  get name(): string | undefined {
    return (this.statement as unknown as QueryConfig).name;
  }

  get text(): string {
    return (this.statement as unknown as QueryConfig).text;
  }

  /** node-pg's `query_timeout` answers and silences the query through its callback. */
  get callback(): unknown {
    return (this.statement as unknown as { callback: unknown }).callback;
  }

  set callback(callback: unknown) {
    (this.statement as unknown as { callback: unknown }).callback = callback;
  }

  submit(connection: StatementConnection): Error | null {
    // node-pg's one refusal of a well-formed query, checked before anything is written: once the begin is on
    // the wire without its Sync, its answers would be taken for the next query's.
    const name = this.name;
    const known =
      name === undefined
        ? undefined
        : (connection.parsedStatements[name] ?? connection.submittedNamedStatements[name]);
    if (known !== undefined && known !== this.text)
      return new Error(`Prepared statements must be unique - '${name}' was used for a different statement`);
    connection.stream.cork?.();
    try {
      connection.bind({ statement: beginStatement.name });
      connection.execute({});
      return (this.statement.submit as unknown as (connection: StatementConnection) => Error | null)(
        connection,
      );
    } finally {
      connection.stream.uncork?.();
    }
  }

  handleCommandComplete(message: unknown, connection: unknown): void {
    if (!this.begun) {
      this.begun = true;
      return;
    }
    this.forward('handleCommandComplete', message, connection);
  }

  handleRowDescription(message: unknown): void {
    this.forward('handleRowDescription', message);
  }

  handleDataRow(message: unknown): void {
    this.forward('handleDataRow', message);
  }

  handleEmptyQuery(connection: unknown): void {
    this.forward('handleEmptyQuery', connection);
  }

  handlePortalSuspended(connection: unknown): void {
    this.forward('handlePortalSuspended', connection);
  }

  handleCopyInResponse(connection: unknown): void {
    this.forward('handleCopyInResponse', connection);
  }

  handleCopyData(message: unknown, connection: unknown): void {
    this.forward('handleCopyData', message, connection);
  }

  handleError(error: Error, connection: unknown): void {
    this.forward('handleError', error, connection);
  }

  handleReadyForQuery(connection: unknown): void {
    this.forward('handleReadyForQuery', connection);
  }

  private forward(handler: string, ...args: unknown[]): void {
    (this.statement as unknown as Record<string, (...args: unknown[]) => void>)[handler](...args);
  }
}

/**
 * Lets a prepared statement go with the protocol's Close, queued behind what the connection already runs. Unlike
 * `DEALLOCATE`, a name the server does not hold (its Parse failed, or is let go twice) is no error, and neither
 * is a failed transaction, so it never aborts the next statement's transaction nor fails where the statement
 * would stay behind on the server. Not for node-pg's pipeline mode, which takes only its own queries.
 */
class StatementClose {
  /** node-pg's `query_timeout` ends a query through its callback; the Close answers it like a query. */
  callback?: (error?: Error) => void;

  constructor(
    private readonly statement: string,
    private readonly closed: (connection: StatementConnection) => void,
  ) {}

  submit(connection: StatementConnection): void {
    // One write for both messages, as node-pg's own queries do.
    connection.stream.cork?.();
    connection.close({ type: 'S', name: this.statement });
    connection.sync();
    connection.stream.uncork?.();
  }

  handleReadyForQuery(connection: StatementConnection): void {
    this.closed(connection);
    this.callback?.();
  }

  /** A Close fails only with its connection, whose statements go with it; the name is forgotten either way. */
  handleError(error: Error, connection: StatementConnection): void {
    this.closed(connection);
    this.callback?.(error);
  }
}

type QueryArguments = [config: unknown, values?: unknown, callback?: unknown];
type Query = (...args: QueryArguments) => unknown;

/** Postgres refusing a prepared statement whose tables changed their row type (a migration meanwhile). */
const cachedPlanChangedResultType = '0A000';

/**
 * Puts `key` last in `map`, a least-recently-used list, and drops the first entry once the list holds more than
 * `capacity`; returns the dropped entry.
 */
function touch<V>(map: Map<string, V>, key: string, value: V, capacity: number): [string, V] | undefined {
  map.delete(key);
  map.set(key, value);
  if (map.size <= capacity) return undefined;
  const oldest = map.entries().next().value as [string, V];
  map.delete(oldest[0]);
  return oldest;
}

/** When a statement prepared afresh after `runs` runs is prepared afresh again. */
export function nextReplanAt(runs: number): number {
  return Math.min(runs * 10, runs + replanEveryRunsAtMost);
}

/**
 * A pg client that prepares a statement with parameters the second time a connection runs it, and from then
 * on sends only its parameters (Bind and Execute): Postgres neither parses, analyses nor plans it again.
 *
 * The services' statements are few texts run many times, and large: data-modifying CTEs over whole runs of
 * events. As unnamed statements each was parsed, analysed and planned on every call, about a third of the
 * Postgres backends' CPU in the pipeline bench (pg_stat_statements: 3.7 s planning beside 7.6 s executing).
 *
 * - Statements without parameters (`BEGIN`, migrations, which may hold several statements) and calls with a
 *   callback go as before. Texts that vary with their data (a VALUES row per record) are mostly run once: a
 *   text is named only on its second run on a connection, so one-offs never take a prepared slot.
 * - A statement prepared inside a transaction that rolls back stays prepared (Parse is not transactional).
 * - When a table a statement reads changes its row type, Postgres refuses the prepared statement
 *   (`cached plan must not change result type`); the client forgets it, so the next run prepares it afresh.
 * - Names are per connection (`keel_<n>`, never reused), so a pooler that shares one server session between
 *   clients in transaction mode cannot be put in front of it.
 * - A statement is prepared afresh after 100 runs, then after 1,000, 10,000 and 100,000, then every 100,000.
 *   Postgres keeps the generic plan it made at a statement's sixth run (its first prepared run where the session
 *   forces generic plans, ADR 0035) until a table's statistics change. A
 *   service's tables start empty, and autovacuum analyses them only after its naptime (a minute by default;
 *   never where it is off), so a plan made for a nearly empty table (a sequential scan, a hash join) went on
 *   scanning the whole table as it grew: the outbox relay's mark read 3,700 pages a statement after 20 s of the
 *   workflow bench.
 * - The pool's connections share one copy of each text (some are tens of kilobytes).
 * - A transaction's `BEGIN` (`START TRANSACTION`, as TypeORM sends it) is held back and answered at once, and
 *   goes with the transaction's first statement, in one round trip instead of two (`AfterBegin`); a
 *   transaction that ends before any statement sends neither its begin nor its end, and one the pool gets back
 *   with its begin still held leaves nothing behind. The begin is prepared (`keel_begin`) as the connection's
 *   first message, and a transaction right after connecting waits for its answer. A first statement without
 *   parameters, with a callback or of its own kind (a stream), or one on a connection that could not prepare
 *   the begin, has a plain begin queued just before it: a begin fails only on a connection that is gone or in
 *   a failed transaction, where the statement behind it fails too. A begin the server lost (`DEALLOCATE ALL`)
 *   is prepared again with every other name let go, and its statement, which did not run, goes again unnamed
 *   behind a plain begin; any other name the server lost fails its statement once and is prepared again at
 *   its next run. A transaction's statements go one at a time, as TypeORM sends them: a query sent on the
 *   client while a transaction's first statement waits for the begin's preparation may run before it.
 */
export function preparingClient(
  capacity = preparedStatementsPerConnection,
  textCapacity = statementTextsPerPool,
  firstReplanAfter = firstReplanAfterRuns,
): typeof Client {
  const texts = new Map<string, string>();
  const shared = (text: string): string => {
    const known = texts.get(text) ?? text;
    touch(texts, known, known, textCapacity);
    return known;
  };

  return class PreparingClient extends Client {
    /** Texts this connection ran once, unnamed; a second run names them. */
    private readonly ranOnce = new Map<string, true>();
    /** Statement text → its name on this connection, least recently used first. */
    private readonly names = new Map<string, Prepared>();
    private nextName = 1;
    /** A `BEGIN` answered but not sent: it goes with the next statement (`afterBegin`). */
    private beginHeld = false;
    private poolRelease: ((error?: Error | boolean) => void) | undefined;
    /** Settles once the connection's `keel_begin` is answered (`prepareBegin`). */
    private beginPrepared: Promise<void>;
    /** node-pg's own query: every statement, named or not, goes through it in order. */
    private readonly send: Query;

    constructor(config?: string | ClientConfig) {
      super(config);
      this.send = super.query.bind(this);
      const prepared: Query = (config, values, callback) => {
        const bare =
          typeof config === 'string' &&
          !callback &&
          (values === undefined || (Array.isArray(values) && values.length === 0));
        if (bare && transactionBegins.has(config) && !this.beginHeld) {
          this.beginHeld = true;
          return Promise.resolve(noRows('BEGIN'));
        }
        const begin = this.beginHeld;
        this.beginHeld = false;
        if (begin && bare && transactionEnds.has(config)) return Promise.resolve(noRows(config));
        if (typeof config !== 'string' || !Array.isArray(values) || values.length === 0 || callback) {
          // Streams and callbacks keep their return values.
          if (begin) this.sendPlainBegin();
          return this.send(config, values, callback);
        }
        const text = shared(config);
        const name = this.nameOf(text);
        const statement: QueryConfig = name === undefined ? { text, values } : { name, text, values };
        const sent = begin ? this.afterBegin(statement) : (this.send(statement) as Promise<QueryResult>);
        if (name === undefined) return sent;
        return sent.catch((error: unknown) => {
          const code = (error as { code?: string }).code;
          // A lost name here is the statement's own: a lost begin is handled where it is sent (`withBegin`).
          if (code === cachedPlanChangedResultType || code === unknownStatement) {
            if (this.names.get(text)?.name === name) this.names.delete(text);
            // A name the server lost needs no Close: node-pg forgets it, and the next run prepares it again.
            if (code === cachedPlanChangedResultType) this.deallocate(name);
            else delete this.connectionOf().parsedStatements[name];
          }
          throw error;
        });
      };
      this.query = prepared as Client['query'];
      // Queued before anything else, it goes first once the connection is up; a client that never connects
      // fails it with its other queries.
      this.beginPrepared = this.prepareBegin();
    }

    /** The begin's Parse, queued; settles once it is answered, prepared or not. */
    private prepareBegin(): Promise<void> {
      return new Promise<void>((resolve) => {
        const prepare = new PrepareBegin();
        prepare.callback = () => resolve();
        this.send(prepare);
      });
    }

    private connectionOf(): StatementConnection {
      return (this as unknown as { connection: StatementConnection }).connection;
    }

    /**
     * The pool's release of this client (pg-pool sets it at every checkout): a begin still held then belonged
     * to a borrower that ended without ending its transaction, and must not open one for the next borrower.
     */
    get release(): ((error?: Error | boolean) => void) | undefined {
      return this.poolRelease;
    }

    set release(release: ((error?: Error | boolean) => void) | undefined) {
      this.poolRelease =
        release &&
        ((error) => {
          this.beginHeld = false;
          release(error);
        });
    }

    /**
     * `statement` as its transaction's first, with the held begin in front of it in the same round trip: once
     * the connection's begin is prepared (a transaction right after connecting waits for that answer, as node-pg
     * would hold the statement back until then anyway), else behind a plain begin.
     */
    private afterBegin(statement: QueryConfig): Promise<QueryResult> {
      const connection = this.connectionOf();
      if (connection.parsedStatements[beginStatement.name] !== undefined) return this.withBegin(statement);
      return this.beginPrepared.then(() =>
        connection.parsedStatements[beginStatement.name] !== undefined
          ? this.withBegin(statement)
          : this.behindPlainBegin(statement),
      );
    }

    /**
     * A plain begin queued just before a statement, unprepared and not waited for: a begin fails only on a
     * connection that is gone or in a failed transaction, where the statement behind it fails too.
     */
    private sendPlainBegin(): void {
      (this.send(beginStatement.text) as Promise<unknown>).catch(() => undefined);
    }

    private behindPlainBegin(statement: QueryConfig): Promise<QueryResult> {
      this.sendPlainBegin();
      return this.send(statement) as Promise<QueryResult>;
    }

    private withBegin(statement: QueryConfig): Promise<QueryResult> {
      let sending: AfterBegin | undefined;
      const sent = new Promise<QueryResult>((resolve, reject) => {
        const query = new PgQuery(statement, undefined, (error: Error | undefined, result: QueryResult) =>
          error ? reject(error) : resolve(result),
        ) as PgQuery & { binary?: boolean; _result?: { _types?: unknown } };
        // What node-pg's own query() gives a query it builds: the client's binary mode and type parsers.
        const client = this as unknown as { binary?: boolean; _types?: unknown };
        if (client.binary) query.binary = true;
        if (query._result && !query._result._types) query._result._types = client._types;
        sending = new AfterBegin(query);
        this.send(sending);
      });
      return sent.catch((error: unknown) => {
        if ((error as { code?: string }).code !== unknownStatement || sending?.begun !== false) throw error;
        // The server lost the begin, and with it (`DEALLOCATE ALL`, `DISCARD ALL`) likely every name: nothing
        // ran, since the server skipped to the Sync. Every name is let go and prepared afresh when next run,
        // the begin at once, and the statement goes again, unnamed, behind a plain begin.
        for (const { name } of this.names.values()) this.deallocate(name);
        this.names.clear();
        delete this.connectionOf().parsedStatements[beginStatement.name];
        this.beginPrepared = this.prepareBegin();
        return this.behindPlainBegin({ text: statement.text, values: statement.values });
      });
    }

    private nameOf(text: string): string | undefined {
      const known = this.names.get(text);
      if (known !== undefined) {
        known.runs += 1;
        if (known.runs < known.replanAt) {
          touch(this.names, text, known, capacity);
          return known.name;
        }
        // Planned afresh under a new name, for the tables as they are now.
        this.deallocate(known.name);
        return this.name(text, known.runs, nextReplanAt(known.runs));
      }
      if (!this.ranOnce.delete(text)) {
        touch(this.ranOnce, text, true, capacity);
        return undefined;
      }
      return this.name(text, 1, firstReplanAfter);
    }

    private name(text: string, runs: number, replanAt: number): string {
      const prepared: Prepared = { name: `keel_${this.nextName++}`, runs, replanAt };
      const evicted = touch(this.names, text, prepared, capacity);
      if (evicted) this.deallocate(evicted[1].name);
      return prepared.name;
    }

    /**
     * Lets a name go on the server, behind whatever already uses it (a Parse of it still in flight included),
     * and then from node-pg's list of parsed names.
     */
    private deallocate(name: string): void {
      this.send(new StatementClose(name, (connection) => delete connection.parsedStatements[name]));
    }
  };
}
