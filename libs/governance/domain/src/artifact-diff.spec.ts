import { diffContent } from './artifact-diff';

describe('diffContent', () => {
  it('lists added, removed and changed paths through objects and arrays, in key order', () => {
    const before = { start: 'a', steps: { a: { next: 'b' }, b: { type: 'end' } }, tools: ['x', 'y', 'z'] };
    const after = {
      start: 'a',
      steps: { a: { next: 'c' }, c: { type: 'end' } },
      tools: ['x', 'w'],
      owner: 'ops',
    };
    expect(diffContent(before, after)).toEqual([
      { path: 'owner', change: 'added', after: 'ops' },
      { path: 'steps.a.next', change: 'changed', before: 'b', after: 'c' },
      { path: 'steps.b', change: 'removed', before: { type: 'end' } },
      { path: 'steps.c', change: 'added', after: { type: 'end' } },
      { path: 'tools[1]', change: 'changed', before: 'y', after: 'w' },
      { path: 'tools[2]', change: 'removed', before: 'z' },
    ]);
  });

  it('finds nothing between equal content and replaces a value whose type changes whole', () => {
    expect(diffContent({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toEqual([]);
    expect(diffContent({ a: { b: 1 } }, { a: [1] })).toEqual([
      { path: 'a', change: 'changed', before: { b: 1 }, after: [1] },
    ]);
  });
});
