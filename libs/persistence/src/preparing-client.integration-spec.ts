import { testDatabaseUrl } from '@keel/testing';
import { type Client, Pool } from 'pg';
import { firstReplanAfterRuns, preparingClient } from './preparing-client';

describe('preparingClient (real Postgres)', () => {
  let client: Client;

  /** The statements prepared on the connection, but the begin every connection prepares. */
  const preparedTexts = async (): Promise<string[]> => {
    const { rows } = await client.query<{ statement: string }>(
      "SELECT statement FROM pg_prepared_statements WHERE name <> 'keel_begin' ORDER BY prepare_time",
    );
    return rows.map((row) => row.statement);
  };
  const twice = async (text: string, values: unknown[]) => {
    await client.query(text, values);
    return client.query(text, values);
  };

  beforeEach(async () => {
    const PreparingClient = preparingClient(2);
    client = new PreparingClient({ connectionString: testDatabaseUrl });
    await client.connect();
  });
  afterEach(() => client.end());

  it('prepares a statement with parameters on its second run and runs it by name from then on', async () => {
    const sum = 'SELECT $1::int + $2::int AS sum';
    const first = await client.query<{ sum: number }>(sum, [1, 2]);
    expect(await preparedTexts()).toEqual([]);
    const second = await client.query<{ sum: number }>(sum, [40, 2]);
    const third = await client.query<{ sum: number }>(sum, [5, 5]);
    expect([first, second, third].map((result) => result.rows[0].sum)).toEqual([3, 42, 10]);
    expect(await preparedTexts()).toEqual([sum]);
  });

  it('sends statements without parameters as they are, several in one text included', async () => {
    await client.query('CREATE TEMP TABLE notes (body text); INSERT INTO notes VALUES ($$a$$)');
    const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM notes');
    expect(rows).toEqual([{ count: '1' }]);
    expect(await preparedTexts()).toEqual([]);
  });

  it('deallocates the least recently used statement past its capacity, and prepares it again when used', async () => {
    await twice('SELECT $1::int AS a', [1]);
    await twice('SELECT $1::int AS b', [1]);
    await client.query('SELECT $1::int AS a', [2]);
    await twice('SELECT $1::int AS c', [3]);
    expect(await preparedTexts()).toEqual(['SELECT $1::int AS a', 'SELECT $1::int AS c']);

    const again = await twice('SELECT $1::int AS b', [7]);
    expect(again.rows).toEqual([{ b: 7 }]);
    expect(await preparedTexts()).toEqual(['SELECT $1::int AS c', 'SELECT $1::int AS b']);
  });

  it('keeps a statement prepared in a transaction that rolled back', async () => {
    await client.query('BEGIN');
    await twice('SELECT $1::text AS word', ['inside']);
    await client.query('ROLLBACK');
    const { rows } = await client.query<{ word: string }>('SELECT $1::text AS word', ['after']);
    expect(rows).toEqual([{ word: 'after' }]);
    expect(await preparedTexts()).toEqual(['SELECT $1::text AS word']);
  });

  describe("a transaction's begin, sent with its first statement", () => {
    const table = `begin_spec_${process.pid}`;
    let observer: Client;
    const seen = async (): Promise<string[]> =>
      (await observer.query<{ body: string }>(`SELECT body FROM ${table} ORDER BY body`)).rows.map(
        (row) => row.body,
      );
    const insert = `INSERT INTO ${table} (body) VALUES ($1)`;
    /** `body` inserted in a transaction of its own. */
    const committed = async (body: string) => {
      await client.query('BEGIN');
      await client.query(insert, [body]);
      await client.query('COMMIT');
    };

    beforeEach(async () => {
      observer = new (preparingClient())({ connectionString: testDatabaseUrl });
      await observer.connect();
      await observer.query(`CREATE TABLE ${table} (body text PRIMARY KEY)`);
    });
    afterEach(async () => {
      await observer.query(`DROP TABLE ${table}`);
      await observer.end();
    });

    /** Round trips the client starts from now on: each ends in a Sync, or is a simple query. */
    const roundTrips = (): (() => number) => {
      const connection = (
        client as unknown as { connection: Record<'sync' | 'query', (...args: unknown[]) => void> }
      ).connection;
      let count = 0;
      for (const method of ['sync', 'query'] as const) {
        const original = connection[method].bind(connection);
        connection[method] = (...args: unknown[]) => {
          count += 1;
          original(...args);
        };
      }
      return () => count;
    };

    it('sends the begin with the first statement: one round trip for both, none for a transaction without statements', async () => {
      // Once the connection prepared its begin (its first message).
      await client.query('SELECT 1');
      const count = roundTrips();
      await client.query('START TRANSACTION');
      await client.query(insert, ['counted']);
      expect(count()).toBe(1);
      await client.query('COMMIT');
      expect(count()).toBe(2);
      await client.query('START TRANSACTION');
      await client.query('COMMIT');
      expect(count()).toBe(2);
      expect(await seen()).toEqual(['counted']);
    });

    it('holds the transaction: unseen until it commits, gone when it rolls back, in every transaction', async () => {
      // The statement unnamed the first two times, by name from the third.
      for (const round of [1, 2, 3, 4]) {
        await client.query('START TRANSACTION');
        await client.query(insert, [`kept ${round}`]);
        expect(await seen()).not.toContain(`kept ${round}`);
        await client.query('COMMIT');
        await client.query('START TRANSACTION');
        await client.query(insert, [`undone ${round}`]);
        await client.query('ROLLBACK');
      }
      expect(await seen()).toEqual(['kept 1', 'kept 2', 'kept 3', 'kept 4']);
    });

    it('leaves a transaction whose first statement failed begun and failed, and the next one whole', async () => {
      for (const round of [1, 2]) {
        await client.query('BEGIN');
        await expect(client.query('SELECT $1::int / 0 AS never', [round])).rejects.toThrow(
          'division by zero',
        );
        await expect(client.query(insert, [`after a failure ${round}`])).rejects.toThrow(
          'current transaction is aborted',
        );
        await client.query('ROLLBACK');
      }
      await committed('whole');
      expect(await seen()).toEqual(['whole']);
    });

    it('sends neither begin nor end of a transaction without statements, and holds nothing after it', async () => {
      await client.query('START TRANSACTION');
      await client.query('COMMIT');
      await client.query('START TRANSACTION');
      await client.query('ROLLBACK');
      // Outside any transaction: seen at once.
      await client.query(insert, ['alone']);
      expect(await seen()).toEqual(['alone']);
    });

    it('leaves no begin held to the next borrower of a connection the pool got back mid-transaction', async () => {
      const pool = new Pool({ Client: preparingClient(), connectionString: testDatabaseUrl, max: 1 });
      try {
        const careless = await pool.connect();
        await careless.query('START TRANSACTION');
        careless.release();
        const next = await pool.connect();
        await next.query(insert, ['committed alone']);
        expect(await seen()).toEqual(['committed alone']);
        next.release();
      } finally {
        await pool.end();
      }
    });

    it('prepares the begin afresh when the server lost it, and sends the statement again behind a plain one', async () => {
      await client.query('SELECT 1');
      await client.query('DEALLOCATE keel_begin');
      for (const round of [1, 2, 3]) {
        await client.query('START TRANSACTION');
        await client.query(insert, [`held ${round}`]);
        expect(await seen()).toEqual([1, 2, 3].filter((earlier) => earlier < round).map((n) => `held ${n}`));
        await client.query('COMMIT');
      }
      expect(await seen()).toEqual(['held 1', 'held 2', 'held 3']);
    });

    it('recovers from every name lost at once: the statement that finds the begin gone goes again, unnamed', async () => {
      // Its second run names the insert.
      await client.query(insert, ['warm 1']);
      await client.query(insert, ['warm 2']);
      await client.query(`DELETE FROM ${table}`);
      await client.query('DEALLOCATE ALL');
      for (const round of [1, 2, 3]) {
        await client.query('START TRANSACTION');
        await client.query(insert, [`after ${round}`]);
        await client.query('COMMIT');
      }
      expect(await seen()).toEqual(['after 1', 'after 2', 'after 3']);
    });

    it('fails a statement whose name the server lost once, and prepares it again at its next run', async () => {
      const echo = 'SELECT $1::int AS n';
      await twice(echo, [1]);
      await client.query('DEALLOCATE ALL');
      await expect(client.query(echo, [2])).rejects.toThrow('does not exist');
      expect((await twice(echo, [3])).rows).toEqual([{ n: 3 }]);
      // The begin, lost too, is prepared again by the next transaction.
      await committed('after all');
      expect(await seen()).toEqual(['after all']);
    });

    it('puts a plain begin in front of a first statement without parameters', async () => {
      await client.query('START TRANSACTION');
      await client.query(`INSERT INTO ${table} (body) VALUES ('plain')`);
      expect(await seen()).toEqual([]);
      await client.query('ROLLBACK');
      expect(await seen()).toEqual([]);
    });
  });

  it('prepares a statement afresh once a migration changed the row type it returns', async () => {
    await client.query('CREATE TEMP TABLE notes (id int, body text)');
    await client.query('INSERT INTO notes VALUES (1, $1)', ['first']);
    const read = 'SELECT * FROM notes WHERE id = $1';
    await twice(read, [1]);
    await client.query('ALTER TABLE notes ADD COLUMN author text');

    await expect(client.query(read, [1])).rejects.toThrow('cached plan must not change result type');
    const { rows } = await twice(read, [1]);
    expect(rows).toEqual([{ id: 1, body: 'first', author: null }]);
  });

  it('prepares a statement afresh after 100 runs, so that its generic plan is made for the table as it grew', async () => {
    await client.query('CREATE TEMP TABLE items (id int PRIMARY KEY, body text)');
    const lookup = 'SELECT body FROM items WHERE id IN (SELECT unnest($1::int[]))';
    const plan = async () => {
      const [{ name }] = (
        await client.query<{ name: string }>('SELECT name FROM pg_prepared_statements WHERE statement = $1', [
          lookup,
        ])
      ).rows;
      // With a parameter, this EXPLAIN would itself be prepared; the name is the statement under test.
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE ${name}('{1,2}')`);
      return { name, plan: rows.map((row) => row['QUERY PLAN']).join('\n') };
    };
    // Ten ids a run, as many as a generic plan assumes an array holds: from the sixth run of the prepared
    // statement on, Postgres runs the generic plan, made for the empty table.
    const ids = (run: number) => Array.from({ length: 10 }, (_, n) => run * 10 + n);
    const early = 10;
    for (let run = 0; run < early; run += 1) await client.query(lookup, [ids(run)]);
    await client.query("INSERT INTO items SELECT n, 'x' FROM generate_series(1, 20000) AS n");
    const young = await plan();
    expect(young.plan).toContain('Seq Scan on items');

    // The text's 101st run is prepared afresh; five custom plans later the generic one is made again.
    for (let run = early; run <= firstReplanAfterRuns + early; run += 1)
      await client.query(lookup, [ids(run)]);
    const grown = await plan();
    expect(grown.name).not.toBe(young.name);
    expect(grown.plan).toContain('Index Scan using items_pkey');
    // Generic: the parameter, not a value, in the plan.
    expect(grown.plan).toContain('unnest($1)');
    // The name it had is deallocated.
    const { rows } = await client.query<{ name: string }>(
      'SELECT name FROM pg_prepared_statements WHERE statement = $1',
      [lookup],
    );
    expect(rows).toEqual([{ name: grown.name }]);
  });

  it('lets the old name go inside a transaction, a failed one too, without failing it', async () => {
    const Replanning = preparingClient(2, undefined, 3);
    const replanning = new Replanning({ connectionString: testDatabaseUrl });
    await replanning.connect();
    try {
      const echo = 'SELECT $1::int AS n';
      const names = async () =>
        (
          await replanning.query<{ name: string }>(
            'SELECT name FROM pg_prepared_statements WHERE statement = $1 ORDER BY name',
            [echo],
          )
        ).rows.map((row) => row.name);
      await replanning.query(echo, [1]);
      await replanning.query(echo, [2]);
      await replanning.query(echo, [3]);
      const [first] = await names();
      await replanning.query('BEGIN');
      // The text's fourth run comes after three runs: prepared afresh, inside the transaction.
      expect((await replanning.query(echo, [4])).rows).toEqual([{ n: 4 }]);
      await replanning.query('COMMIT');
      const [second] = await names();
      expect(second).not.toBe(first);
      expect(await names()).toEqual([second]);

      // Prepared afresh after 3 runs, it is again after 30: at the text's 31st run.
      for (let run = 5; run <= 30; run += 1) await replanning.query(echo, [run]);
      const [third] = await names();
      await replanning.query('BEGIN');
      await expect(replanning.query('SELECT 1 / 0')).rejects.toThrow('division by zero');
      // The 31st run falls in a failed transaction: it fails as any statement there would, and the name it
      // had is let go all the same.
      await expect(replanning.query(echo, [31])).rejects.toThrow('current transaction is aborted');
      await replanning.query('ROLLBACK');
      expect(await names()).not.toContain(third);
      expect((await replanning.query(echo, [32])).rows).toEqual([{ n: 32 }]);
      expect(await names()).toHaveLength(1);
    } finally {
      await replanning.end();
    }
  });

  it('reports a failing statement and prepares the next use afresh', async () => {
    await expect(twice('SELECT $1::int / 0 AS never', [1])).rejects.toThrow('division by zero');
    await expect(twice('SELECT nonsense FROM $1', [1])).rejects.toThrow('syntax error');
    const { rows } = await twice('SELECT $1::boolean AS ok', [true]);
    expect(rows).toEqual([{ ok: true }]);
  });
});
