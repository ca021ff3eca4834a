import { fuseByReciprocalRank } from './reciprocal-rank-fusion';

describe('reciprocal rank fusion as Qdrant does it', () => {
  it('scores 1/(2 + zero-based position) per ranking and sums across rankings', () => {
    const fused = fuseByReciprocalRank([
      ['a', 'b', 'c'],
      ['c', 'a'],
    ]);
    expect(fused).toEqual([
      { id: 'a', score: 1 / 2 + 1 / 3 },
      { id: 'c', score: 1 / 4 + 1 / 2 },
      { id: 'b', score: 1 / 3 },
    ]);
  });

  it('breaks ties by id, so the order does not depend on which ranking came first', () => {
    expect(fuseByReciprocalRank([['y'], ['x']]).map((entry) => entry.id)).toEqual(['x', 'y']);
    expect(fuseByReciprocalRank([['x'], ['y']]).map((entry) => entry.id)).toEqual(['x', 'y']);
  });

  it('takes another k when given one', () => {
    expect(fuseByReciprocalRank([['a']], 60)).toEqual([{ id: 'a', score: 1 / 60 }]);
  });
});
