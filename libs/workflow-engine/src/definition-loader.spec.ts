import { loadDefinition } from './definition-loader';
import { type DefinitionProblem, WorkflowDefinitionError } from './definition.error';
import { canonicalJson } from './json-value';

const valid = `
name: shipping
version: 1
description: Reserve then confirm.
start: reserve
steps:
  reserve:
    kind: task
    connector: { type: http, service: inventory, method: POST, path: /reservations, body: { id: "{{ input.id }}" } }
    compensate: { type: http, service: inventory, method: DELETE, path: "/reservations/{{ steps.reserve.output.id }}" }
    next: confirm
  confirm:
    kind: task
    connector: { type: kafka, topic: orders, value: { id: "{{ input.id }}" } }
    retry: { maxAttempts: 5 }
    next: done
  done:
    kind: end
`;

/** Loads and returns the thrown error, failing the test if loading succeeds. */
function rejection(source: unknown): WorkflowDefinitionError {
  try {
    loadDefinition(source);
  } catch (error) {
    if (error instanceof WorkflowDefinitionError) return error;
    throw error;
  }
  throw new Error('definition loaded');
}

function messages(source: unknown): string[] {
  return rejection(source).problems.map((problem) => problem.message);
}

/** Two-step definition whose `steps` block is replaced. */
function withSteps(steps: string, start = 'a'): string {
  return `name: broken\nversion: 1\nstart: ${start}\nsteps:\n${steps}`;
}

describe('loadDefinition', () => {
  it('loads YAML, applies defaults and freezes the result', () => {
    const definition = loadDefinition(valid);
    expect(definition.steps.reserve).toMatchObject({
      retry: { maxAttempts: 3, initialDelayMs: 1_000, backoffMultiplier: 2, maxDelayMs: 60_000 },
      startToCloseMs: 30_000,
    });
    expect(definition.steps.reserve).not.toHaveProperty('timeoutMs');
    expect(definition.steps.confirm).toMatchObject({ retry: { maxAttempts: 5, initialDelayMs: 1_000 } });
    expect(definition.steps.done).toEqual({ kind: 'end', status: 'completed' });
    expect(Object.isFrozen(definition.steps.reserve)).toBe(true);
  });

  it('loads JSON text and parsed objects to the same canonical data', () => {
    const fromYaml = loadDefinition(valid);
    const asObject = JSON.parse(canonicalJson(fromYaml)) as unknown;
    expect(canonicalJson(loadDefinition(asObject))).toBe(canonicalJson(fromYaml));
    expect(canonicalJson(loadDefinition(JSON.stringify(asObject)))).toBe(canonicalJson(fromYaml));
  });

  it('does not freeze or keep the caller object', () => {
    const data = JSON.parse(canonicalJson(loadDefinition(valid))) as { steps: object };
    loadDefinition(data);
    expect(Object.isFrozen(data.steps)).toBe(false);
  });

  it('names an unknown next target', () => {
    const source = valid.replace('next: done', 'next: confrm');
    expect(rejection(source).problems).toEqual([
      {
        code: 'unknown-step',
        path: 'steps.confirm.next',
        message: "step 'confirm'.next refers to unknown step 'confrm'",
      },
      {
        code: 'unreachable-step',
        path: 'steps.done',
        message: "step 'done' is unreachable from the top-level flow (start 'reserve')",
      },
    ]);
  });

  it('reports every problem at once, in one typed error', () => {
    const error = rejection(
      withSteps(
        `  a: { kind: choice, choices: [{ when: "input.x >", next: b }], otherwise: ghost }\n  b: { kind: end }\n  orphan: { kind: end }\n`,
      ),
    );
    expect(error).toBeInstanceOf(WorkflowDefinitionError);
    expect(error.code).toBe('invalid');
    expect(error.problems.map((problem: DefinitionProblem) => problem.code)).toEqual([
      'unknown-step',
      'unreachable-step',
      'expression-syntax',
    ]);
    expect(error.message).toBe(
      [
        "invalid workflow definition 'broken' v1:",
        "  - step 'a'.otherwise refers to unknown step 'ghost'",
        "  - step 'orphan' is unreachable from the top-level flow (start 'a')",
        "  - step 'a'.choices[0].when: syntax error at position 9 in 'input.x >': Unexpected end of expression (S0207)",
      ].join('\n'),
    );
  });

  it('rejects an unknown step kind', () => {
    expect(messages(withSteps(`  a: { kind: tsk, next: b }\n  b: { kind: end }\n`))).toEqual([
      'step \'a\'.kind must be a known step kind (task, choice, approval, wait, decision, parallel, end), got "tsk"',
    ]);
  });

  it('rejects a cycle from which no end step can be reached', () => {
    const source = withSteps(
      [
        '  a: { kind: task, connector: { type: http, service: s, method: GET, path: /poll }, next: b }',
        '  b: { kind: wait, durationMs: 1000, next: a }',
        '  done: { kind: end }',
        '',
      ].join('\n'),
    );
    expect(rejection(source).problems).toContainEqual({
      code: 'cycle-without-exit',
      path: 'steps.a',
      message: "steps 'a', 'b' form a cycle with no path to an end step",
    });
  });

  it('accepts a cycle with an exit', () => {
    const source = withSteps(
      [
        '  a: { kind: task, connector: { type: http, service: s, method: GET, path: /poll }, next: b }',
        '  b: { kind: choice, choices: [{ when: "steps.a.output.done", next: done }], otherwise: c }',
        '  c: { kind: wait, durationMs: 1000, next: a }',
        '  done: { kind: end }',
        '',
      ].join('\n'),
    );
    expect(loadDefinition(source).start).toBe('a');
  });

  it('rejects a loop made only of choice steps', () => {
    const source = withSteps(
      [
        '  a: { kind: choice, choices: [{ when: "input.go", next: done }], otherwise: b }',
        '  b: { kind: choice, choices: [{ when: "input.stop", next: done }], otherwise: a }',
        '  done: { kind: end }',
        '',
      ].join('\n'),
    );
    expect(messages(source)).toEqual([
      "steps 'a', 'b' form a cycle of choice steps that never waits for anything",
    ]);
  });

  it('rejects a compensation without a target, and compensation on a step that is not a task', () => {
    const source = withSteps(
      [
        '  a:',
        '    kind: task',
        '    connector: { type: http, service: inventory, method: POST, path: /reservations }',
        '    compensate: { type: http, method: DELETE }',
        '    next: b',
        '  b: { kind: end, compensate: { type: kafka, topic: undo, value: {} } }',
        '',
      ].join('\n'),
    );
    expect(messages(source)).toEqual([
      "step 'a'.compensate.service is required",
      "step 'a'.compensate.path is required",
      "step 'b' has unknown field(s) 'compensate'",
    ]);
  });

  it('rejects expression errors with the JSONata position, unknown step references and forbidden functions', () => {
    const source = withSteps(
      [
        '  a:',
        '    kind: task',
        '    connector:',
        '      type: kafka',
        '      topic: t',
        '      value: { a: "{{ input.( }}", b: "{{ steps.nope.output }}", c: "{{ $random() }}", d: "x {{ open" }',
        '    next: b',
        '  b: { kind: wait, until: "$eval(input.when)", next: c }',
        '  c: { kind: end }',
        '',
      ].join('\n'),
    );
    expect(rejection(source).problems).toEqual([
      {
        code: 'expression-syntax',
        path: 'steps.a.connector.value.a',
        message:
          "step 'a'.connector.value.a: syntax error at position 7 in 'input.(': Expected \")\" before end of expression (S0203)",
      },
      {
        code: 'expression-reference',
        path: 'steps.a.connector.value.b',
        message: "step 'a'.connector.value.b: 'steps.nope.output' refers to unknown step 'nope'",
      },
      {
        code: 'expression-reference',
        path: 'steps.a.connector.value.c',
        message: "step 'a'.connector.value.c: '$random()' uses $random, which the engine does not allow",
      },
      {
        code: 'expression-syntax',
        path: 'steps.a.connector.value.d',
        message: "step 'a'.connector.value.d: template error at offset 2: '{{' has no matching '}}'",
      },
      {
        code: 'expression-reference',
        path: 'steps.b.until',
        message: "step 'b'.until: '$eval(input.when)' uses $eval, which the engine does not allow",
      },
    ]);
  });

  it('rejects duplicate step ids: repeated keys in the text and the same id in two branches', () => {
    const repeated = rejection(withSteps('  a: { kind: end }\n  a: { kind: end }\n'));
    expect(repeated.code).toBe('unparseable');
    expect(repeated.problems).toEqual([
      { code: 'duplicate-key', path: '', message: "key 'a' appears twice at line 6, column 3" },
    ]);

    const acrossBranches = withSteps(
      [
        '  a:',
        '    kind: parallel',
        '    branches:',
        '      - { start: x, steps: { x: { kind: end } } }',
        '      - { start: x, steps: { x: { kind: end } } }',
        '    next: done',
        '  done: { kind: end }',
        '',
      ].join('\n'),
    );
    expect(rejection(acrossBranches).problems).toEqual([
      {
        code: 'duplicate-step',
        path: 'steps.a.branches[1].steps.x',
        message:
          "step 'x' is defined more than once (at steps.a.branches[0].steps.x and steps.a.branches[1].steps.x)",
      },
    ]);
  });

  it('rejects a missing start, at the top level and in a branch', () => {
    // Reachability is only judged from a start that exists, so a typo yields one problem, not one per step.
    expect(messages(withSteps('  a: { kind: end }\n', 'begin'))).toEqual([
      "start refers to unknown step 'begin'",
    ]);
    const branch = withSteps(
      '  a: { kind: parallel, branches: [{ start: nowhere, steps: { x: { kind: end } } }], next: done }\n  done: { kind: end }\n',
    );
    expect(messages(branch)).toEqual(["step 'a'.branches[0].start refers to unknown step 'nowhere'"]);
  });

  it('keeps branch steps inside their branch', () => {
    const source = withSteps(
      [
        '  a:',
        '    kind: parallel',
        '    branches:',
        '      - start: pack',
        '        steps:',
        '          pack: { kind: task, connector: { type: http, service: s, method: POST, path: /pack }, next: done }',
        '          packed: { kind: end }',
        '    next: done',
        '  done: { kind: end }',
        '',
      ].join('\n'),
    );
    expect(messages(source)).toEqual([
      "step 'pack'.next refers to step 'done' of the top-level flow, outside branch 0 of parallel 'a'",
      "step 'packed' is unreachable from branch 0 of parallel 'a' (start 'pack')",
    ]);
  });

  it('checks rules that span fields', () => {
    const source = withSteps(
      [
        '  a: { kind: approval, title: T, approverRole: ops, timeoutMs: 1000, onTimeout: escalate, next: b }',
        '  b: { kind: wait, durationMs: 5, until: "$now()", next: c }',
        '  c: { kind: task, connector: { type: http, service: s, method: GET, path: "things" }, next: d }',
        '  d: { kind: decision, question: Q, options: [x, x], next: e }',
        '  e: { kind: end }',
        '',
      ].join('\n'),
    );
    expect(messages(source)).toEqual([
      "step 'a'.escalateTo is required when onTimeout is 'escalate'",
      "step 'b' must set exactly one of durationMs and until",
      "step 'c'.connector.path must start with '/': it is resolved against the base URL configured for service 's'",
      "step 'd'.options must not repeat an option",
    ]);
  });

  it('takes timeoutMs as the older name of startToCloseMs, refuses both, and keeps heartbeats shorter than start-to-close', () => {
    const task = (timeouts: string) =>
      withSteps(
        [
          `  a: { kind: task, connector: { type: http, service: s, method: GET, path: /x }, ${timeouts}, next: b }`,
          '  b: { kind: end }',
          '',
        ].join('\n'),
      );
    const legacy = loadDefinition(task('timeoutMs: 2000'));
    const current = loadDefinition(task('startToCloseMs: 2000'));
    expect(canonicalJson(legacy)).toBe(canonicalJson(current));
    expect(loadDefinition(task('scheduleToStartMs: 500, heartbeatTimeoutMs: 100')).steps.a).toMatchObject({
      startToCloseMs: 30_000,
      scheduleToStartMs: 500,
      heartbeatTimeoutMs: 100,
    });
    expect(messages(task('timeoutMs: 1, startToCloseMs: 2'))).toEqual([
      "step 'a'.timeoutMs must not be set together with startToCloseMs (it is its older name)",
    ]);
    expect(messages(task('startToCloseMs: 1000, heartbeatTimeoutMs: 1000'))).toEqual([
      "step 'a'.heartbeatTimeoutMs must be shorter than startToCloseMs (else it never fires first)",
    ]);
  });

  it('rejects step ids that expressions could not name, and a bad cron schedule', () => {
    const source = `name: sched\nversion: 1\nstart: bad-id\nschedule: { cron: "61 * * * *" }\nsteps:\n  bad-id: { kind: end }\n`;
    expect(messages(source)).toEqual(['start must be an identifier (letter, then letters, digits or _)']);
    const cron = `name: sched\nversion: 1\nstart: a\nschedule: { cron: "61 * * * *" }\nsteps:\n  a: { kind: end }\n  b-c: { kind: end }\n`;
    expect(messages(cron)).toEqual([
      "step 'b-c' has an invalid id: it must be a letter followed by letters, digits or _ so expressions can name it",
      "step 'b-c' is unreachable from the top-level flow (start 'a')",
      "schedule.cron '61 * * * *' is not a valid cron expression: Constraint error, got value 61 expected range 0-59",
    ]);
  });

  it('refuses headers that frame the request or that the connector sets, and names that are not header names', () => {
    const call = (headers: string) =>
      withSteps(
        `  a:\n    kind: task\n    connector: { type: http, service: crm, method: POST, path: /notes, headers: ${headers} }\n    next: b\n  b: { kind: end }\n`,
      );
    expect(() =>
      loadDefinition(call('{ x-tenant: "{{ input.tenant }}", Accept: application/json }')),
    ).not.toThrow();
    for (const name of [
      'Host',
      'content-length',
      'Transfer-Encoding',
      'idempotency-key',
      'X-Correlation-Id',
    ]) {
      expect(messages(call(`{ ${name}: "1" }`))).toEqual([
        expect.stringContaining('is set by the connector or frames the request; a template may not set it'),
      ]);
    }
    expect(messages(call('{ "bad header": "1" }'))).toEqual([
      expect.stringContaining('must be an HTTP header name'),
    ]);
  });

  it('reports unparseable text and top-level schema problems', () => {
    const unparseable = rejection('name: [\n');
    expect(unparseable.code).toBe('unparseable');
    expect(unparseable.problems[0]?.message).toMatch(/^Flow sequence .* at line 2, column 1$/);

    expect(messages('version: 0\nstart: x\nsteps: {}\nextra: 1\n')).toEqual([
      'name is required',
      'version: Too small: expected number to be >=1',
      "definition has unknown field(s) 'extra'",
    ]);
  });
});
