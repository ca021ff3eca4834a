import { OffsetCommits } from './offset-commits';

describe('OffsetCommits', () => {
  let clock: number;
  let lateFailures: unknown[];
  let commits: OffsetCommits;
  const committed: string[] = [];
  const commitOf = (name: string) => () => {
    committed.push(name);
    return Promise.resolve();
  };

  beforeEach(() => {
    jest.useFakeTimers();
    clock = 1_000;
    lateFailures = [];
    committed.length = 0;
    commits = new OffsetCommits(
      250,
      (error) => lateFailures.push(error),
      () => clock,
    );
  });
  afterEach(() => jest.useRealTimers());

  it('commits the first batch at once and owes the next ones within the interval to the timer', async () => {
    await commits.afterBatch('t/0', commitOf('t/0 first'));
    clock += 10;
    await commits.afterBatch('t/0', commitOf('t/0 second'));
    await commits.afterBatch('t/1', commitOf('t/1'));
    expect(committed).toEqual(['t/0 first']);

    clock += 240;
    await jest.advanceTimersByTimeAsync(240);
    // A partition's later batch replaces what it owed: its commit covers the earlier one's offsets.
    expect(committed).toEqual(['t/0 first', 't/0 second', 't/1']);
  });

  it('commits at once when forced or once the interval is up', async () => {
    await commits.afterBatch('t/0', commitOf('a'));
    await commits.afterBatch('t/0', commitOf('forced'), true);
    clock += 250;
    await commits.afterBatch('t/1', commitOf('interval up'));
    expect(committed).toEqual(['a', 'forced', 'interval up']);
  });

  it('settles what is owed, and reports a failed late commit instead of throwing', async () => {
    await commits.afterBatch('t/0', commitOf('a'));
    await commits.afterBatch('t/0', () => Promise.reject(new Error('rebalance in progress')));
    await commits.afterBatch('t/1', commitOf('b'));
    await commits.settle();
    expect(committed).toEqual(['a', 'b']);
    expect(lateFailures).toEqual([new Error('rebalance in progress')]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(committed).toEqual(['a', 'b']);
  });

  it('lets a commit made after a batch fail to its caller', async () => {
    await expect(
      commits.afterBatch('t/0', () => Promise.reject(new Error('coordinator moved'))),
    ).rejects.toThrow('coordinator moved');
    await commits.afterBatch('t/0', commitOf('next'), true);
    expect(committed).toEqual(['next']);
  });

  it('runs commits one at a time, in the order asked', async () => {
    const order: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const first = commits.afterBatch('t/0', async () => {
      order.push('first started');
      await new Promise<void>((resolve) => (releaseFirst = resolve));
      order.push('first done');
    });
    const second = commits.afterBatch(
      't/1',
      async () => {
        order.push('second started');
        await Promise.resolve();
      },
      true,
    );
    await Promise.resolve();
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first started', 'first done', 'second started']);
  });
});
