import { ChannelListener } from '@keel/persistence';
import { replicaDataSource, uniqueName, waitFor } from '@keel/testing';
import type { DataSource } from 'typeorm';

/** A channel as Postgres delivers it: at the sender's commit, to a listener that listens again when cut off. */
describe('channel listener', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  let channel: string;
  let sender: DataSource;
  beforeEach(async () => {
    channel = uniqueName('channel');
    sender = await dataSource();
  });

  async function dataSource(): Promise<DataSource> {
    const source = await replicaDataSource();
    cleanups.push(async () => source.isInitialized && (await source.destroy()));
    return source;
  }

  async function listener(retryMs = 100) {
    const heard: string[] = [];
    const errors: unknown[] = [];
    let listening = 0;
    const channelListener = new ChannelListener({
      dataSource: await dataSource(),
      channel,
      onNotify: (payload) => heard.push(payload),
      onListening: () => (listening += 1),
      onError: (error) => errors.push(error),
      retryMs,
    });
    cleanups.push(() => channelListener.stop());
    return { channelListener, heard, errors, listening: () => listening };
  }

  /** The backend listening on the channel, known by its last statement. */
  const listeningBackends = async () =>
    (
      await sender.query<Array<{ pid: number }>>(`SELECT pid FROM pg_stat_activity WHERE query LIKE $1`, [
        `%LISTEN "${channel}"`,
      ])
    ).map(({ pid }) => pid);

  it('hears what another session notifies, at its commit and not before', async () => {
    const { channelListener, heard, listening } = await listener();
    await channelListener.start();
    expect(listening()).toBe(1);

    const runner = sender.createQueryRunner();
    await runner.startTransaction();
    await runner.query('SELECT pg_notify($1, $2)', [channel, 'in a transaction']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard).toEqual([]);
    await runner.commitTransaction();
    await runner.release();
    await waitFor(() => heard.length === 1, { timeoutMs: 5_000, what: 'the committed notification' });

    const other = await listener();
    await other.channelListener.start();
    await other.channelListener.notify('outside one');
    await waitFor(() => heard.length === 2 && other.heard.length === 1, {
      timeoutMs: 5_000,
      what: 'both listeners heard it',
    });
    expect(heard).toEqual(['in a transaction', 'outside one']);
    expect(other.heard).toEqual(['outside one']);
  });

  it('listens again when its connection is cut, and says so', async () => {
    const { channelListener, heard, errors, listening } = await listener();
    await channelListener.start();
    const [backend] = await listeningBackends();
    await sender.query('SELECT pg_terminate_backend($1)', [backend]);

    await waitFor(() => listening() === 2, { timeoutMs: 10_000, what: 'listening again' });
    expect(errors).toHaveLength(1);
    await waitFor(async () => (await listeningBackends()).length === 1, {
      timeoutMs: 5_000,
      what: 'one backend listening',
    });
    expect(await listeningBackends()).not.toContain(backend);
    await channelListener.notify('after the cut');
    await waitFor(() => heard.includes('after the cut'), { timeoutMs: 5_000, what: 'heard after the cut' });
  });

  it('listens afresh when its owner finds it deaf, on a new backend', async () => {
    const { channelListener, heard, errors, listening } = await listener();
    await channelListener.start();
    const [backend] = await listeningBackends();
    await channelListener.listenAfresh();

    expect(listening()).toBe(2);
    expect(errors).toEqual([]);
    expect(await listeningBackends()).not.toContain(backend);
    await channelListener.notify('afresh');
    await waitFor(() => heard.includes('afresh'), { timeoutMs: 5_000, what: 'heard on the new backend' });
  });

  it('keeps trying while the database refuses it, and stops with its connection closed', async () => {
    const errors: unknown[] = [];
    let listening = 0;
    const source = await dataSource();
    const refusing = new ChannelListener({
      dataSource: source,
      channel,
      onNotify: () => undefined,
      onListening: () => (listening += 1),
      onError: (error) => errors.push(error),
      retryMs: 50,
    });
    cleanups.push(() => refusing.stop());
    // Every connection the pool lends is held elsewhere, so the listener's connect times out, and again.
    const held = await Promise.all(
      [source.createQueryRunner(), source.createQueryRunner()].map(async (runner) => {
        await runner.connect();
        return runner;
      }),
    );
    await refusing.start();
    await waitFor(() => errors.length >= 2, { timeoutMs: 15_000, what: 'two failed tries' });
    expect(listening).toBe(0);
    for (const runner of held) await runner.release();
    await waitFor(() => listening === 1, { timeoutMs: 10_000, what: 'listening once the pool lends' });

    await refusing.stop();
    expect(await listeningBackends()).toEqual([]);
  });

  it('refuses a channel Postgres would truncate', () => {
    expect(
      () =>
        new ChannelListener({
          dataSource: sender,
          channel: 'x'.repeat(64),
          onNotify: () => undefined,
          onListening: () => undefined,
          onError: () => undefined,
        }),
    ).toThrow(/1 to 63 bytes/);
  });
});
