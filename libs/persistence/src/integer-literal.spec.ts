import { integerLiteral } from './integer-literal';

describe('integerLiteral', () => {
  it('writes a whole number, rounding a fraction (a retention given in fractional hours)', () => {
    expect(integerLiteral(604_800_000, 'retention')).toBe('604800000');
    expect(integerLiteral(0, 'retention')).toBe('0');
    expect(integerLiteral((1 / 3) * 3_600_000, 'retention')).toBe('1200000');
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, -1, 2 ** 60])(
    'refuses %p, naming what it was for',
    (value) => {
      expect(() => integerLiteral(value, 'batch size')).toThrow(/batch size must be/);
    },
  );
});
