import { workflow } from './builder';
import { loadDefinition } from './definition-loader';
import { WorkflowDefinitionError } from './definition.error';
import { canonicalJson } from './json-value';

function problemsOf(build: () => unknown): Array<{ code: string; path: string; message: string }> {
  try {
    build();
  } catch (error) {
    if (error instanceof WorkflowDefinitionError) return [...error.problems];
    throw error;
  }
  throw new Error('built');
}

describe('workflow builder', () => {
  it('produces the same definition as the equivalent YAML', () => {
    const built = workflow('order-routing', 2)
      .describe('Reserve, then confirm or wait for a person.')
      .schedule('0 6 * * *', { batch: true })
      .task('reserve', {
        connector: {
          type: 'http',
          service: 'inventory',
          method: 'POST',
          path: '/reservations',
          body: { id: '{{ input.id }}' },
        },
        compensate: {
          type: 'http',
          service: 'inventory',
          method: 'DELETE',
          path: '/reservations/{{ steps.reserve.output.id }}',
        },
        retry: { maxAttempts: 5 },
        next: 'fan',
      })
      .parallel('fan', {
        branches: [
          (branch) =>
            branch
              .approval('approve', { title: 'Ok?', approverRole: 'ops', timeoutMs: 60_000, next: 'approved' })
              .end('approved'),
          (branch) => branch.wait('pause', { durationMs: 1_000, next: 'paused' }).end('paused'),
        ],
        next: 'done',
      })
      .end('done')
      .build();

    const loaded = loadDefinition(`
      name: order-routing
      version: 2
      description: Reserve, then confirm or wait for a person.
      schedule: { cron: "0 6 * * *", input: { batch: true } }
      start: reserve
      steps:
        reserve:
          kind: task
          connector: { type: http, service: inventory, method: POST, path: /reservations, body: { id: "{{ input.id }}" } }
          compensate: { type: http, service: inventory, method: DELETE, path: "/reservations/{{ steps.reserve.output.id }}" }
          retry: { maxAttempts: 5 }
          next: fan
        fan:
          kind: parallel
          branches:
            - start: approve
              steps:
                approve: { kind: approval, title: Ok?, approverRole: ops, timeoutMs: 60000, next: approved }
                approved: { kind: end }
            - start: pause
              steps:
                pause: { kind: wait, durationMs: 1000, next: paused }
                paused: { kind: end }
          next: done
        done: { kind: end }
    `);
    expect(canonicalJson(built)).toBe(canonicalJson(loaded));
    expect(Object.isFrozen(built)).toBe(true);
  });

  it('starts at the first step added unless told otherwise', () => {
    const defaulted = workflow('w', 1).end('first').build();
    expect(defaulted.start).toBe('first');
    const explicit = workflow('w', 1)
      .wait('pause', { durationMs: 10, next: 'done' })
      .end('done')
      .start('pause')
      .build();
    expect(explicit.start).toBe('pause');
  });

  it('reports ids added twice, including inside branches, with every other problem', () => {
    expect(
      problemsOf(() =>
        workflow('w', 1)
          .wait('a', { durationMs: 10, next: 'fan' })
          .end('a')
          .parallel('fan', { branches: [(branch) => branch.end('x').end('x')], next: 'donee' })
          .end('done')
          .build(),
      ),
    ).toEqual([
      { code: 'duplicate-step', path: 'steps.a', message: "step 'a' is added more than once" },
      {
        code: 'duplicate-step',
        path: 'steps.fan.branches[0].steps.x',
        message: "step 'x' is added more than once",
      },
      {
        code: 'unknown-step',
        path: 'steps.fan.next',
        message: "step 'fan'.next refers to unknown step 'donee'",
      },
      {
        code: 'unreachable-step',
        path: 'steps.done',
        message: "step 'done' is unreachable from the top-level flow (start 'a')",
      },
    ]);
  });

  it('reports an empty workflow', () => {
    expect(problemsOf(() => workflow('w', 1).build()).map((problem) => problem.message)).toEqual([
      'start is required',
    ]);
  });
});
