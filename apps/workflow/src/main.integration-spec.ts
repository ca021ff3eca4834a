import type { ReadinessReport } from '@keel/observability';
import {
  type ScratchDatabase,
  scratchDatabase,
  startTsProcess,
  testKafkaBrokers,
  type TestProcess,
} from '@keel/testing';

// The service as its own process: what an orchestrator sees at boot, on a probe and on SIGTERM.
const entry = 'apps/workflow/src/main.ts';

function exitCode(service: TestProcess): Promise<number | null> {
  const { child } = service;
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function listening(service: TestProcess): Promise<string> {
  await service.waitForOutput('listening on');
  const url = /"url":"([^"]+)"/.exec(service.output())?.[1];
  if (!url) throw new Error(`no url logged:\n${service.output()}`);
  return url;
}

function logLines(service: TestProcess): Array<Record<string, unknown>> {
  return service
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{"level":"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('workflow service process', () => {
  let database: ScratchDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    database = await scratchDatabase('keel_workflow_main');
    env = {
      PORT: '0',
      DATABASE_URL: database.url,
      KAFKA_BROKERS: testKafkaBrokers.join(','),
      LOG_LEVEL: 'info',
      ACCESS_SHARED_KEY: 'main-spec-shared-key-0123456789abcdef',
    };
  });
  afterAll(() => database?.drop());

  it('boots, serves its probes, and stops gracefully with status 0 on SIGTERM', async () => {
    const service = startTsProcess(entry, env);
    try {
      const url = await listening(service);
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);

      await service.kill('SIGTERM');

      expect(await exitCode(service)).toBe(0);
      expect(logLines(service)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ service: 'workflow', msg: 'stopping on SIGTERM' }),
          expect.objectContaining({ service: 'workflow', msg: 'stopped', exitCode: 0 }),
        ]),
      );
    } finally {
      await service.kill('SIGKILL');
    }
  });

  it('reports Kafka not ready with a reason while the brokers are unreachable, and still stops promptly', async () => {
    const service = startTsProcess(entry, { ...env, KAFKA_BROKERS: '127.0.0.1:1' });
    try {
      const url = await listening(service);

      const response = await fetch(`${url}/health/ready`);

      expect(response.status).toBe(503);
      const report = (await response.json()) as ReadinessReport;
      expect(report.checks).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'postgres', status: 'up' }),
          expect.objectContaining({
            name: 'kafka',
            status: 'down',
            reason: expect.stringMatching(/brokers/),
          }),
        ]),
      );
      const stopping = Date.now();
      await service.kill('SIGTERM');
      expect(await exitCode(service)).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(5000);
    } finally {
      await service.kill('SIGKILL');
    }
  });

  it('refuses to start on an invalid setting, naming it, with status 1', async () => {
    const service = startTsProcess(entry, { ...env, PORT: 'eighty' });

    expect(await exitCode(service)).toBe(1);
    expect(logLines(service)).toEqual([
      expect.objectContaining({
        level: 'fatal',
        service: 'workflow',
        problems: [expect.stringMatching(/^PORT: /)],
      }),
    ]);
  });

  it('refuses to start when its deduplication window is shorter than a consumed topic keeps records', async () => {
    const service = startTsProcess(entry, { ...env, PROCESSED_EVENTS_RETENTION_HOURS: '24' });

    expect(await exitCode(service)).toBe(1);
    expect(logLines(service)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          level: 'fatal',
          service: 'workflow',
          problems: expect.arrayContaining([
            expect.stringMatching(
              /^PROCESSED_EVENTS_RETENTION_HOURS: 24 h is shorter than keel\.decisions\.v1 may keep a record \(retention\.ms 259200000 /,
            ),
          ]),
        }),
      ]),
    );
  });
});
