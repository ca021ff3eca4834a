import { Client, type ClientConfig } from 'pg';

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

/** The part of node-pg's connection a statement's name is let go on. */
interface StatementConnection {
  readonly parsedStatements: Record<string, string | undefined>;
  readonly stream: { cork?: () => void; uncork?: () => void };
  close(message: { type: 'S'; name: string }): void;
  sync(): void;
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
 *   Postgres keeps the generic plan it made at a statement's sixth run until a table's statistics change. A
 *   service's tables start empty, and autovacuum analyses them only after its naptime (a minute by default;
 *   never where it is off), so a plan made for a nearly empty table (a sequential scan, a hash join) went on
 *   scanning the whole table as it grew: the outbox relay's mark read 3,700 pages a statement after 20 s of the
 *   workflow bench.
 * - The pool's connections share one copy of each text (some are tens of kilobytes).
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
    /** node-pg's own query: every statement, named or not, goes through it in order. */
    private readonly send: Query;

    constructor(config?: string | ClientConfig) {
      super(config);
      this.send = super.query.bind(this);
      const prepared: Query = (config, values, callback) => {
        if (typeof config !== 'string' || !Array.isArray(values) || values.length === 0 || callback)
          return this.send(config, values, callback);
        const text = shared(config);
        const name = this.nameOf(text);
        if (name === undefined) return this.send(text, values);
        return (this.send({ name, text, values }) as Promise<unknown>).catch((error: unknown) => {
          if ((error as { code?: string }).code === cachedPlanChangedResultType) {
            if (this.names.get(text)?.name === name) this.names.delete(text);
            this.deallocate(name);
          }
          throw error;
        });
      };
      this.query = prepared as Client['query'];
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
