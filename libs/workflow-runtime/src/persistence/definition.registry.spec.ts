import { workflow } from '@keel/workflow-engine';
import { DefinitionRegistry, WorkflowRuntimeError } from '@keel/workflow-runtime';

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
  it('resolves a pinned version and the newest one', () => {
    const registry = new DefinitionRegistry();
    registry.register(notify(1));
    registry.register(notify(2));
    expect(registry.get('notify', 1).version).toBe(1);
    expect(registry.latest('notify').version).toBe(2);
  });

  it('accepts the same content twice but refuses a changed definition under an existing version', () => {
    const registry = new DefinitionRegistry();
    registry.register(notify(1));
    registry.register(notify(1));
    expect(() => registry.register(notify(1, '/changed'))).toThrow(
      /notify@1 already exists with different content/,
    );
  });

  it('names an unknown workflow or version', () => {
    const registry = new DefinitionRegistry();
    registry.register(notify(1));
    expect(() => registry.get('notify', 3)).toThrow(WorkflowRuntimeError);
    expect(() => registry.latest('nothing')).toThrow(/no workflow named 'nothing'/);
  });
});
