import { Client, type ClientConfig } from 'pg';

/** Named statements a connection keeps by default; the least recently used one is deallocated past it. */
export const preparedStatementsPerConnection = 128;

/** Distinct statement texts a pool prepares at most: past it, a new text goes unnamed, as a one-off. */
export const preparedTextsPerPool = 512;

/** The part of node-pg's connection the client consults before it sends a statement's Parse. */
interface ParsedStatements {
  readonly parsedStatements: Record<string, string>;
}

type QueryArguments = [config: unknown, values?: unknown, callback?: unknown];
type Query = (...args: QueryArguments) => unknown;

/**
 * A pg client that prepares every statement that has parameters, once per connection, and from then on sends
 * only its parameters (Bind and Execute): Postgres neither parses, analyses nor plans it again.
 *
 * The services' statements are few texts run many times, and large: data-modifying CTEs over whole runs of
 * events. As unnamed statements each was parsed, analysed and planned on every call — in the pipeline bench
 * about a third of the Postgres backends' CPU went outside execution, and preparing every statement took the
 * backends from ~0.57 to ~0.48 of a core at the same load while they ran 40 % more statements.
 *
 * Statements without parameters (`BEGIN`, migrations, which may hold several statements) go as before. A
 * statement prepared inside a transaction that rolls back stays prepared: protocol-level Parse is not
 * transactional. Postgres re-plans a prepared statement itself when a table it reads changes.
 *
 * The pool's connections share one copy of each text (some are tens of kilobytes; a pool of ten kept ten).
 */
export function preparingClient(
  capacity = preparedStatementsPerConnection,
  textCapacity = preparedTextsPerPool,
): typeof Client {
  const texts = new Map<string, string>();
  const shared = (text: string): string | undefined => {
    const known = texts.get(text);
    if (known !== undefined || texts.size >= textCapacity) return known;
    texts.set(text, text);
    return text;
  };
  return class PreparingClient extends Client {
    /** Statement text → its name on this connection, least recently used first. */
    private readonly names = new Map<string, string>();
    private nextName = 1;

    constructor(config?: string | ClientConfig) {
      super(config);
      const query = super.query.bind(this) as Query;
      const prepared: Query = (config, values, callback) => {
        const text =
          typeof config === 'string' && Array.isArray(values) && values.length > 0
            ? shared(config)
            : undefined;
        return text === undefined
          ? query(config, values, callback)
          : query({ name: this.nameOf(text, query), text, values }, callback);
      };
      this.query = prepared as Client['query'];
    }

    private nameOf(text: string, query: Query): string {
      const known = this.names.get(text);
      if (known !== undefined) {
        this.names.delete(text);
        this.names.set(text, known);
        return known;
      }
      if (this.names.size >= capacity) {
        const [oldestText, oldest] = this.names.entries().next().value as [string, string];
        this.names.delete(oldestText);
        // Queued behind whatever already uses it; forgotten by the client only once the server has let it go.
        void (query(`DEALLOCATE ${oldest}`) as Promise<unknown>)
          .then(
            () =>
              delete (this as unknown as { connection: ParsedStatements }).connection.parsedStatements[
                oldest
              ],
          )
          .catch(() => undefined);
      }
      const name = `keel_${this.nextName++}`;
      this.names.set(text, name);
      return name;
    }
  };
}
