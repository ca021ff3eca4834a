import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDefinitionFiles } from '@keel/workflow-runtime';

describe('loadDefinitionFiles', () => {
  const folder = mkdtempSync(join(tmpdir(), 'keel-definitions-spec-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('loads YAML and JSON definitions and ignores other files', () => {
    writeFileSync(
      join(folder, 'ping.workflow.yaml'),
      [
        'name: ping',
        'version: 1',
        'start: call',
        'steps:',
        '  call:',
        '    kind: task',
        '    connector: { type: http, service: echo, method: POST, path: /ping }',
        '    next: done',
        '  done: { kind: end, status: completed }',
      ].join('\n'),
    );
    writeFileSync(join(folder, 'notes.txt'), 'not a definition');
    expect(
      loadDefinitionFiles(folder).map((definition) => `${definition.name}@${definition.version}`),
    ).toEqual(['ping@1']);
  });

  it('refuses a bad definition naming the file and the problem', () => {
    writeFileSync(
      join(folder, 'broken.workflow.json'),
      JSON.stringify({
        name: 'broken',
        version: 1,
        start: 'a',
        steps: { a: { kind: 'choice', choices: [{ when: 'true', next: 'a' }], otherwise: 'nowhere' } },
      }),
    );
    expect(() => loadDefinitionFiles(folder)).toThrow(/broken\.workflow\.json: .*'nowhere'/s);
  });
});
