import { firstReplanAfterRuns, nextReplanAt } from './preparing-client';

describe('nextReplanAt', () => {
  it('prepares afresh ten times later each time while young, then every 100,000 runs', () => {
    const schedule = [firstReplanAfterRuns];
    while (schedule.length < 7) schedule.push(nextReplanAt(schedule[schedule.length - 1] ?? 0));
    expect(schedule).toEqual([100, 1_000, 10_000, 100_000, 200_000, 300_000, 400_000]);
  });
});
