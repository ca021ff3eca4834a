import { type ReleaseContents } from '@keel/contracts';
import { Registry } from 'prom-client';
import type { EntityManager } from 'typeorm';
import { type AppliedReleases, type ReleaseState } from './applied-releases.repository';
import { CurrentRelease } from './current-release';
import { type AppliedRelease, type ReleaseStage } from './release';
import { createReleasesMetrics } from './releases.metrics';

const manager = {} as EntityManager;
const contents = {} as ReleaseContents;
const applied = (id: string, stage: ReleaseStage, sequence: number): AppliedRelease => ({
  id,
  tenant: 'acme',
  stage,
  sequence,
  contents,
  artifacts: [],
  appliedAt: new Date('2026-12-01T12:00:00.000Z'),
});

/** The table as another replica left it; counts full reads, so a refresh without a change is seen to be cheap. */
class SharedTable implements Pick<AppliedReleases, 'state' | 'appliedThrough'> {
  state_: ReleaseState = { appliedThrough: 0 };
  fullReads = 0;

  state(): Promise<ReleaseState> {
    this.fullReads += 1;
    return Promise.resolve(this.state_);
  }

  appliedThrough(): Promise<number> {
    return Promise.resolve(this.state_.appliedThrough);
  }
}

function setUp(tenant: string | null = 'acme') {
  const table = new SharedTable();
  const registry = new Registry();
  const current = new CurrentRelease({
    tenant: tenant ?? undefined,
    repository: table as unknown as AppliedReleases,
    manager,
    metrics: createReleasesMetrics(registry),
  });
  return { table, registry, current };
}

describe('CurrentRelease', () => {
  it('follows what another replica applied, telling listeners once per change, and names it in the metric', async () => {
    const { table, registry, current } = setUp();
    const heard: Array<string | undefined> = [];
    current.onChange(({ production }) => heard.push(production?.id));

    table.state_ = { appliedThrough: 5, production: applied('r1', 'production', 5) };
    await current.refresh();
    await current.refresh();
    table.state_ = {
      appliedThrough: 9,
      production: applied('r1', 'production', 5),
      shadow: applied('r2', 'shadow', 9),
    };
    await current.refresh();
    table.state_ = { appliedThrough: 11, production: applied('r2', 'production', 11) };
    await current.refresh();

    expect(heard).toEqual([undefined, 'r1', 'r1', 'r2']);
    expect(table.fullReads).toBe(3);
    expect(current.health()).toEqual({
      tenant: 'acme',
      production: { id: 'r2', sequence: 11, appliedAt: '2026-12-01T12:00:00.000Z' },
      shadow: null,
    });
    const info = (await registry.getSingleMetric('keel_release_info')?.get())?.values;
    expect(info).toEqual([{ labels: { tenant: 'acme', stage: 'production', release: 'r2' }, value: 1 }]);
  });

  it('reads nothing and names no release when the service applies none', async () => {
    const { table, current } = setUp(null);
    table.state_ = { appliedThrough: 5, production: applied('r1', 'production', 5) };
    expect(await current.refresh()).toEqual({});
    expect(current.health()).toEqual({ tenant: null, production: null, shadow: null });
    expect(table.fullReads).toBe(0);
  });
});
