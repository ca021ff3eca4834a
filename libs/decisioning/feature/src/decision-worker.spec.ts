import { type DecisionRecord } from '@keel/contracts';
import { type DecisionTrigger } from '@keel/decisioning-domain';
import { waitFor } from '@keel/testing';
import { type DecisionOutcome } from './decide.usecase';
import { DecisionWorker, type DecisionWorkerOptions } from './decision-worker';
import { type PendingTrigger } from './persistence/decision-queue.repository';

/** The queue as a list in position order; publishing takes triggers out, marking failed keeps them aside. */
class InMemoryQueue {
  readonly rows: PendingTrigger[] = [];
  readonly failed = new Map<string, string>();
  reads = 0;

  add(decisionId: string, caseId: string, shard = 0): void {
    const trigger = { kind: 'case-event', eventId: decisionId, tenant: 'acme', caseId } as DecisionTrigger;
    this.rows.push({
      decisionId,
      shard,
      trigger,
      envelope: { id: decisionId, tenant: 'acme', correlationid: caseId },
      position: String(this.rows.length + 1),
      history: [],
      historyLimit: 20,
    });
  }

  pending(
    limit: number,
    excluding: readonly string[],
    _historyLimit: number,
    shards: readonly number[],
  ): Promise<PendingTrigger[]> {
    this.reads += 1;
    return Promise.resolve(
      this.rows
        .filter(
          (row) =>
            shards.includes(row.shard) &&
            !excluding.includes(row.decisionId) &&
            !this.failed.has(row.decisionId),
        )
        .slice(0, limit),
    );
  }

  markFailed(decisionId: string, error: string): Promise<void> {
    this.failed.set(decisionId, error);
    return Promise.resolve();
  }

  remove(ids: readonly string[]): void {
    for (const id of ids) {
      const index = this.rows.findIndex((row) => row.decisionId === id);
      if (index >= 0) this.rows.splice(index, 1);
    }
  }
}

function outcomeOf(pending: PendingTrigger): DecisionOutcome {
  const record = { decisionId: pending.decisionId, caseId: pending.trigger.caseId } as DecisionRecord;
  return {
    decisionId: pending.decisionId,
    tenant: 'acme',
    records: [record],
    decisions: [],
    workflowCommands: [],
  };
}

describe('DecisionWorker', () => {
  let worker: DecisionWorker | undefined;
  afterEach(() => worker?.stop());

  function start(queue: InMemoryQueue, overrides: Partial<DecisionWorkerOptions>): string[] {
    const published: string[] = [];
    worker = new DecisionWorker({
      queue,
      shards: { take: () => Promise.resolve([0]), release: () => Promise.resolve(), working: [0] },
      decide: (pending) => Promise.resolve(outcomeOf(pending)),
      publish: (outcomes) => {
        published.push(...outcomes.map((outcome) => outcome.decisionId));
        queue.remove(outcomes.map((outcome) => outcome.decisionId));
        return Promise.resolve(outcomes);
      },
      historyLimit: () => 20,
      maxInFlight: 16,
      pollMs: 10,
      maxAttempts: 3,
      now: () => Date.now(),
      ...overrides,
    });
    worker.start();
    return published;
  }

  it("publishes a case's triggers in queue order however long each decision takes, other cases alongside", async () => {
    const queue = new InMemoryQueue();
    queue.add('a1', 'case-a');
    queue.add('b1', 'case-b');
    queue.add('a2', 'case-a');
    const delays: Record<string, number> = { a1: 80, a2: 0, b1: 0 };
    const published = start(queue, {
      decide: async (pending) => {
        await new Promise((resolve) => setTimeout(resolve, delays[pending.decisionId]));
        return outcomeOf(pending);
      },
    });
    await waitFor(() => published.length === 3, { what: 'three published' });
    // b1 did not wait for case a; a2 waited for a1 although it was quicker.
    expect(published.indexOf('b1')).toBeLessThan(published.indexOf('a1'));
    expect(published.indexOf('a1')).toBeLessThan(published.indexOf('a2'));
    expect(queue.rows).toEqual([]);
  });

  it("retries a failing decision, holding its case's later triggers, then marks it failed and moves on", async () => {
    const queue = new InMemoryQueue();
    queue.add('a1', 'case-a');
    queue.add('a2', 'case-a');
    queue.add('b1', 'case-b');
    const attempts: string[] = [];
    const published = start(queue, {
      decide: (pending) => {
        attempts.push(pending.decisionId);
        return pending.decisionId === 'a1'
          ? Promise.reject(new Error('planner bug'))
          : Promise.resolve(outcomeOf(pending));
      },
    });
    await waitFor(() => published.includes('a2'), { what: 'a2 published', timeoutMs: 5_000 });
    expect(attempts.filter((id) => id === 'a1')).toHaveLength(3);
    expect(queue.failed.get('a1')).toBe('planner bug');
    // a2 was decided only once a1 was out of the way; b1 never waited.
    expect(attempts.indexOf('a2')).toBeGreaterThan(attempts.lastIndexOf('a1'));
    expect(published).toEqual(['b1', 'a2']);
  });

  it('reads what a full worker left as soon as publishing frees slots, not at the next poll', async () => {
    const queue = new InMemoryQueue();
    for (const n of [1, 2, 3, 4, 5]) queue.add(`t${n}`, `case-${n}`);
    const published = start(queue, { maxInFlight: 2, pollMs: 60_000 });
    await waitFor(() => published.length === 5, { what: 'all five published', timeoutMs: 5_000 });
  });

  it('reads the queue once per trigger committed, not again after each publish', async () => {
    const queue = new InMemoryQueue();
    queue.add('a1', 'case-a');
    const published = start(queue, { pollMs: 60_000 });
    await waitFor(() => published.length === 1, { what: 'a1 published' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(queue.reads).toBe(1);
    queue.add('a2', 'case-a');
    worker?.nudge();
    await waitFor(() => published.length === 2, { what: 'a2 published' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(queue.reads).toBe(2);
  });

  it('publishes again what failed to publish, without deciding it again', async () => {
    const queue = new InMemoryQueue();
    queue.add('a1', 'case-a');
    let decided = 0;
    let tries = 0;
    const published: string[] = [];
    start(queue, {
      decide: (pending) => {
        decided += 1;
        return Promise.resolve(outcomeOf(pending));
      },
      publish: (outcomes) => {
        tries += 1;
        if (tries === 1) return Promise.reject(new Error('connection terminated'));
        published.push(...outcomes.map((outcome) => outcome.decisionId));
        queue.remove(outcomes.map((outcome) => outcome.decisionId));
        return Promise.resolve(outcomes);
      },
    });
    await waitFor(() => published.length === 1, { what: 'published after a failure' });
    expect([decided, tries]).toEqual([1, 2]);
  });

  it('reads nothing while it holds no shard', async () => {
    const queue = new InMemoryQueue();
    queue.add('a1', 'case-a');
    let asked = 0;
    const published = start(queue, {
      shards: {
        take: () => {
          asked += 1;
          return Promise.resolve([]);
        },
        release: () => Promise.resolve(),
        working: [],
      },
    });
    await waitFor(() => asked >= 3, { what: 'shards asked again' });
    expect([queue.reads, published]).toEqual([0, []]);
  });

  it('decides the shards it holds only, and names those with triggers in flight as busy', async () => {
    const queue = new InMemoryQueue();
    queue.add('a1', 'case-a', 0);
    queue.add('b1', 'case-b', 1);
    queue.add('c1', 'case-c', 2);
    const busyAsked: number[][] = [];
    let finish: () => void = () => undefined;
    const decided = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const published = start(queue, {
      shards: {
        take: (busy) => {
          busyAsked.push([...busy]);
          return Promise.resolve([0, 2]);
        },
        release: () => Promise.resolve(),
        working: [0, 2],
      },
      decide: async (pending) => {
        if (pending.decisionId === 'a1') await decided;
        return outcomeOf(pending);
      },
    });
    await waitFor(() => published.includes('c1'), { what: 'c1 published' });
    await waitFor(() => busyAsked.some((busy) => busy.includes(0)), { what: 'shard 0 named busy' });
    finish();
    await waitFor(() => published.includes('a1'), { what: 'a1 published' });
    await waitFor(() => busyAsked.at(-1)?.length === 0, { what: 'nothing busy' });
    expect(published.sort()).toEqual(['a1', 'c1']);
    expect(queue.rows.map((row) => row.decisionId)).toEqual(['b1']);
  });

  it('keeps a trigger being marked failed in flight: its shard busy, the trigger not read again', async () => {
    const queue = new InMemoryQueue();
    queue.add('a1', 'case-a', 3);
    const busyWhileMarking: number[][] = [];
    const readWhileMarking: string[] = [];
    let marking = false;
    let written: () => void = () => undefined;
    const writing = new Promise<void>((resolve) => {
      written = resolve;
    });
    start(queue, {
      maxAttempts: 1,
      shards: {
        take: (busy) => {
          if (marking) busyWhileMarking.push([...busy]);
          return Promise.resolve([3]);
        },
        release: () => Promise.resolve(),
        working: [3],
      },
      queue: {
        pending: async (...args) => {
          const read = await queue.pending(...args);
          if (marking) readWhileMarking.push(...read.map((pending) => pending.decisionId));
          return read;
        },
        markFailed: async (decisionId, error) => {
          marking = true;
          await writing;
          await queue.markFailed(decisionId, error);
          marking = false;
        },
      },
      decide: () => Promise.reject(new Error('planner bug')),
    });
    await waitFor(() => busyWhileMarking.length >= 3, { what: 'polls while the mark is written' });
    written();
    await waitFor(() => queue.failed.has('a1'), { what: 'marked failed' });
    expect(busyWhileMarking.every((busy) => busy.includes(3))).toBe(true);
    expect(readWhileMarking).toEqual([]);
  });

  it('starts the attempts over at a shard it gave up and took back, as the replica taking it would', async () => {
    const queue = new InMemoryQueue();
    queue.add('a1', 'case-a', 5);
    const attempts: string[] = [];
    let givenUp = false;
    start(queue, {
      shards: {
        take: () => {
          if (attempts.length === 1 && !givenUp) {
            givenUp = true;
            return Promise.resolve([]);
          }
          return Promise.resolve([5]);
        },
        release: () => Promise.resolve(),
        working: [5],
      },
      decide: (pending) => {
        attempts.push(pending.decisionId);
        return Promise.reject(new Error('planner bug'));
      },
    });
    await waitFor(() => queue.failed.has('a1'), { what: 'a1 marked failed', timeoutMs: 5_000 });
    // One attempt before the shard went, then all three of maxAttempts: nothing was left of the first.
    expect(attempts).toHaveLength(4);
  });
});
