import { workflow } from './builder';
import { describeDefinition } from './describe-definition';
import { nextScheduledStart } from './schedule';

const definition = workflow('demo', 3)
  .describe('Demo flow')
  .schedule('30 6 * * 1-5')
  .task('reserve', {
    connector: { type: 'http', service: 'inventory', method: 'POST', path: '/r' },
    compensate: { type: 'http', service: 'inventory', method: 'DELETE', path: '/r/1' },
    next: 'route',
  })
  .choice('route', { choices: [{ when: 'input.fast = true', next: 'fan' }], otherwise: 'done' })
  .parallel('fan', {
    branches: [(branch) => branch.decision('ask', { question: 'Which "way"?', next: 'asked' }).end('asked')],
    next: 'done',
  })
  .end('done')
  .build();

describe('describeDefinition', () => {
  it('summarises steps with their scope, transitions and compensations', () => {
    const summary = describeDefinition(definition);
    expect(summary).toMatchObject({
      name: 'demo',
      version: 3,
      description: 'Demo flow',
      start: 'reserve',
      compensatedSteps: ['reserve'],
    });
    expect(summary.steps).toEqual([
      { id: 'reserve', kind: 'task', scope: 'root', next: ['route'], connector: 'http', compensated: true },
      { id: 'route', kind: 'choice', scope: 'root', next: ['fan', 'done'], compensated: false },
      { id: 'fan', kind: 'parallel', scope: 'root', next: ['done'], compensated: false },
      { id: 'ask', kind: 'decision', scope: 'fan[0]', next: ['asked'], compensated: false },
      { id: 'asked', kind: 'end', scope: 'fan[0]', next: [], compensated: false },
      { id: 'done', kind: 'end', scope: 'root', next: [], compensated: false },
    ]);
  });

  it('draws a Mermaid flowchart with branches as subgraphs', () => {
    expect(describeDefinition(definition).mermaid).toBe(
      [
        'flowchart TD',
        '  reserve["reserve · http ↺"]',
        '  route{"route"}',
        '  fan[["fan · parallel"]]',
        '  done(("done · completed"))',
        '  subgraph fan_0 ["fan[0]"]',
        '    ask{{"ask · decision"}}',
        '    asked(("asked · completed"))',
        '  end',
        '  reserve --> route',
        '  route -- "input.fast = true" --> fan',
        '  route -- otherwise --> done',
        '  fan -.-> ask',
        '  fan -- all branches done --> done',
        '  ask --> asked',
      ].join('\n'),
    );
  });
});

describe('nextScheduledStart', () => {
  it('computes the next cron occurrence in UTC after the given instant', () => {
    expect(nextScheduledStart(definition, new Date('2025-01-03T07:00:00Z'))?.toISOString()).toBe(
      '2025-01-06T06:30:00.000Z',
    );
    expect(nextScheduledStart(workflow('x', 1).end('e').build(), new Date(0))).toBeUndefined();
  });
});
