import { workflow } from '@keel/workflow-engine';
import { DefinitionRegistry } from '@keel/workflow-runtime';
import { InMemoryWorkflowRepositories } from './in-memory-workflow-repositories.fixture';

function notify(version: number, path = '/notify') {
  return workflow('notify', version)
    .task('send', {
      connector: { type: 'http', service: 'mail', method: 'POST', path },
      next: 'done',
    })
    .end('done')
    .build();
}

describe('DefinitionRegistry', () => {
  it('accepts the same content twice but refuses a changed definition under an existing version', () => {
    const registry = new DefinitionRegistry(new InMemoryWorkflowRepositories().definitions);
    registry.register(notify(1));
    registry.register(notify(1));
    expect(() => registry.register(notify(1, '/changed'))).toThrow(
      /notify@1 already exists with different content/,
    );
  });
});
