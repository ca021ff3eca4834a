import { type INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  HealthModule,
  provideHealthDetail,
  provideReadinessCheck,
  type ReadinessCheck,
  type ReadinessReport,
} from '@keel/observability';

// A feature module adding its checks the way services do, without the health module knowing them.
function featureWith(checks: ReadinessCheck[]) {
  @Module({ providers: checks.map((check) => provideReadinessCheck(check.name, { useValue: check })) })
  class FeatureModule {}
  return FeatureModule;
}

async function start(
  checks: ReadinessCheck[],
): Promise<{ app: INestApplication; get: (path: string) => Promise<Response> }> {
  @Module({ imports: [HealthModule.forRoot({ checkTimeoutMs: 100 }), featureWith(checks)] })
  class TestAppModule {}
  const app = await NestFactory.create(TestAppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  return { app, get: (path) => fetch(`${url}${path}`) };
}

const up = (name: string): ReadinessCheck => ({ name, check: () => Promise.resolve() });
const down = (name: string, reason: string): ReadinessCheck => ({
  name,
  check: () => Promise.reject(new Error(reason)),
});

describe('HealthModule', () => {
  let app: INestApplication | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('is ready when every check passes', async () => {
    const started = await start([up('postgres'), up('kafka')]);
    app = started.app;

    const response = await started.get('/health/ready');

    expect(response.status).toBe(200);
    const body = (await response.json()) as ReadinessReport;
    expect(body.status).toBe('ready');
    expect(body.checks.map((check) => [check.name, check.status]).sort()).toEqual([
      ['kafka', 'up'],
      ['postgres', 'up'],
    ]);
  });

  it('answers 503 naming each failing check and its reason', async () => {
    const started = await start([up('postgres'), down('kafka', 'connect ECONNREFUSED 127.0.0.1:9092')]);
    app = started.app;

    const response = await started.get('/health/ready');

    expect(response.status).toBe(503);
    const body = (await response.json()) as ReadinessReport;
    expect(body.status).toBe('not_ready');
    expect(body.checks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'postgres', status: 'up' }),
        expect.objectContaining({
          name: 'kafka',
          status: 'down',
          reason: 'connect ECONNREFUSED 127.0.0.1:9092',
        }),
      ]),
    );
  });

  it('fails a check that does not answer within the deadline', async () => {
    const hanging: ReadinessCheck = { name: 'qdrant', check: () => new Promise(() => undefined) };
    const started = await start([hanging]);
    app = started.app;

    const body = (await (await started.get('/health/ready')).json()) as ReadinessReport;

    expect(body.checks).toEqual([
      expect.objectContaining({ name: 'qdrant', status: 'down', reason: 'no answer within 100 ms' }),
    ]);
  });

  it('stays live while not ready, so an outage of a dependency does not restart the process', async () => {
    const started = await start([down('postgres', 'too many connections')]);
    app = started.app;

    const live = await started.get('/health/live');
    const both = await started.get('/health');

    expect(live.status).toBe(200);
    expect(await live.json()).toEqual(expect.objectContaining({ status: 'up' }));
    expect(both.status).toBe(503);
    expect(await both.json()).toEqual(
      expect.objectContaining({
        live: expect.objectContaining({ status: 'up' }),
        ready: expect.objectContaining({ status: 'not_ready' }),
      }),
    );
  });

  it('states every detail a feature module provides in GET /health, beside the probes', async () => {
    let release = 'r1';
    @Module({
      providers: [
        provideHealthDetail('release', { useValue: { name: 'release', read: () => ({ production: release }) } }),
      ],
    })
    class ReleasesFeature {}
    @Module({ imports: [HealthModule.forRoot(), ReleasesFeature] })
    class TestAppModule {}
    const nest = await NestFactory.create(TestAppModule, { logger: false });
    app = nest;
    await nest.listen(0, '127.0.0.1');
    const url = await nest.getUrl();
    expect(await (await fetch(`${url}/health`)).json()).toEqual(
      expect.objectContaining({ release: { production: 'r1' }, live: expect.anything() }),
    );
    release = 'r2';
    expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ release: { production: 'r2' } });
  });

  it('closes what the checks hold open when the application shuts down', async () => {
    const close = jest.fn(() => Promise.resolve());
    const started = await start([{ ...up('kafka'), close }]);

    await started.app.close();

    expect(close).toHaveBeenCalledTimes(1);
  });
});
