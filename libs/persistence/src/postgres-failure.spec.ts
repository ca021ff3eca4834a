import { classifyPostgresFailure } from './postgres-failure';

const pgError = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('classifyPostgresFailure', () => {
  it.each([
    ['ECONNREFUSED', 'unavailable'],
    ['ECONNRESET', 'unavailable'],
    ['08006', 'unavailable'],
    ['08001', 'unavailable'],
    ['57P01', 'unavailable'],
    ['57P03', 'unavailable'],
    ['53300', 'unavailable'],
    ['40001', 'transient'],
    ['40P01', 'transient'],
    ['55P03', 'transient'],
    ['53200', 'transient'],
    ['XX000', 'transient'],
    ['57014', 'timeout'],
    ['23505', 'permanent'],
    ['23503', 'permanent'],
    ['22P02', 'permanent'],
    ['42601', 'permanent'],
    ['42501', 'permanent'],
    ['42P01', 'permanent'],
  ])('classifies %s as %s', (code, kind) => {
    expect(classifyPostgresFailure(pgError(code))).toBe(kind);
  });

  it("reads TypeORM's copy of the driver's code, or the driver error itself", () => {
    expect(classifyPostgresFailure({ driverError: pgError('23505') })).toBe('permanent');
    expect(classifyPostgresFailure(new Error('wrapped', { cause: pgError('57P01') }))).toBe('unavailable');
  });

  it('recognises the connection failures pg reports by message only', () => {
    expect(classifyPostgresFailure(new Error('Connection terminated unexpectedly'))).toBe('unavailable');
    expect(classifyPostgresFailure(new Error('timeout exceeded when trying to connect'))).toBe('unavailable');
  });

  it('treats an error that blames nobody as transient', () => {
    expect(classifyPostgresFailure(new Error('something odd'))).toBe('transient');
    expect(classifyPostgresFailure('a string')).toBe('transient');
  });
});
