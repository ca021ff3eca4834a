import { createMetricsRegistry, PortCallTimer } from '@keel/observability';
import type { Registry } from 'prom-client';

class InMemoryCaseRepository {
  private readonly cases = new Map<string, string>();
  readonly kind = 'memory';

  save(id: string, state: string): Promise<void> {
    this.cases.set(id, state);
    return Promise.resolve();
  }

  load(id: string): Promise<string> {
    const state = this.cases.get(id);
    return state === undefined ? Promise.reject(new Error(`case ${id} not found`)) : Promise.resolve(state);
  }

  count(): number {
    return this.cases.size;
  }

  async saveAll(entries: Array<[string, string]>): Promise<void> {
    for (const [id, state] of entries) await this.save(id, state);
  }
}

async function observations(registry: Registry): Promise<Record<string, number>> {
  const [metric] = (await registry.getMetricsAsJSON()).filter(
    ({ name }) => name === 'keel_port_call_duration_seconds',
  );
  const counts: Record<string, number> = {};
  for (const value of metric?.values ?? []) {
    if (!('metricName' in value) || value.metricName !== 'keel_port_call_duration_seconds_count') continue;
    const { port, method, outcome } = value.labels;
    counts[`${port}.${method}:${outcome}`] = value.value;
  }
  return counts;
}

describe('PortCallTimer', () => {
  let registry: Registry;
  let repository: InMemoryCaseRepository;

  beforeEach(() => {
    registry = createMetricsRegistry({ service: 'workflow', defaultMetrics: false });
    repository = new PortCallTimer(registry).wrap('case', new InMemoryCaseRepository());
  });

  it('times each method call by outcome and keeps results and errors unchanged', async () => {
    await repository.save('c-1', 'open');
    await expect(repository.load('c-1')).resolves.toBe('open');
    await expect(repository.load('c-2')).rejects.toThrow('case c-2 not found');
    expect(repository.count()).toBe(1);

    expect(await observations(registry)).toEqual({
      'case.save:ok': 1,
      'case.load:ok': 1,
      'case.load:error': 1,
      'case.count:ok': 1,
    });
  });

  it('counts a call once even when the method calls others on the same object', async () => {
    await repository.saveAll([
      ['c-1', 'open'],
      ['c-2', 'closed'],
    ]);

    expect(await observations(registry)).toEqual({ 'case.saveAll:ok': 1 });
  });

  it('passes properties that are not methods through', () => {
    expect(repository.kind).toBe('memory');
  });
});
