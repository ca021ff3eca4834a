import { workflow } from '@keel/workflow-engine';
import { DefinitionRegistry, releasedDefinitions } from '@keel/workflow-runtime';
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

describe('DefinitionRegistry under a release', () => {
  const manager = {} as import('typeorm').EntityManager;

  it('starts an unversioned request on the version the release in force names, and names the release', async () => {
    const repositories = new InMemoryWorkflowRepositories();
    const registry = new DefinitionRegistry(repositories.definitions);
    registry.register(notify(1));
    registry.register(notify(2));
    await registry.synchronize(manager);
    expect((await registry.resolveStart(manager, 'notify')).definition.version).toBe(2);
    expect((await registry.resolveStart(manager, 'notify')).release).toBeUndefined();

    registry.follow({ id: 'r1', versions: new Map([['notify', 1]]) });
    expect(await registry.resolveStart(manager, 'notify')).toMatchObject({
      definition: { name: 'notify', version: 1 },
      release: 'r1',
    });
    // An explicit version is honoured; the instance still names the release it started under.
    expect(await registry.resolveStart(manager, 'notify', 2)).toMatchObject({
      definition: { version: 2 },
      release: 'r1',
    });
    registry.follow(undefined);
    expect(registry.releaseInForce()).toBeUndefined();
  });

  it("publishes a release's version to the shared table, refusing one stored with other content", async () => {
    const repositories = new InMemoryWorkflowRepositories();
    const registry = new DefinitionRegistry(repositories.definitions);
    registry.register(notify(1));
    await registry.synchronize(manager);
    await registry.publish(manager, notify(3, '/v3'));
    await registry.publish(manager, notify(3, '/v3'));
    expect(await repositories.definitions.newestVersion(manager, 'notify')).toBe(3);
    // Another replica reads it from the table.
    const replica = new DefinitionRegistry(repositories.definitions);
    expect((await replica.resolve(manager, 'notify', 3)).version).toBe(3);
    await expect(replica.publish(manager, notify(1, '/changed'))).rejects.toMatchObject({
      code: 'definition-conflict',
    });
  });

  it("loads a release's templates by the engine, each under the name the release gives it", () => {
    const content = JSON.parse(JSON.stringify(notify(4))) as unknown;
    expect(releasedDefinitions([{ name: 'notify', content }]).map((d) => d.version)).toEqual([4]);
    expect(() => releasedDefinitions([{ name: 'other', content }])).toThrow(
      expect.objectContaining({ code: 'definition-conflict' }) as Error,
    );
    expect(() => releasedDefinitions([{ name: 'notify', content: { name: 'notify' } }])).toThrow(
      expect.objectContaining({ code: 'invalid-request' }) as Error,
    );
  });
});
