import { PollingLoop } from './polling-loop';

describe('PollingLoop', () => {
  it('stops as soon as the tick in flight ends, without waiting out its interval', async () => {
    let tickStarted: () => void = () => undefined;
    let finishTick: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (tickStarted = resolve));
    const loop = new PollingLoop(
      () =>
        new Promise<boolean>((resolve) => {
          tickStarted();
          finishTick = () => resolve(false);
        }),
      { intervalMs: 60_000 },
    );
    loop.start();
    await started;

    const stopped = loop.stop();
    finishTick();
    const begun = Date.now();
    await stopped;

    expect(Date.now() - begun).toBeLessThan(1_000);
  });

  it('runs again at once when nudged while a tick is in flight, instead of waiting out its interval', async () => {
    let ticks = 0;
    let finishFirst: () => void = () => undefined;
    let firstStarted: () => void = () => undefined;
    let secondStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (firstStarted = resolve));
    const again = new Promise<void>((resolve) => (secondStarted = resolve));
    const loop = new PollingLoop(
      () => {
        ticks += 1;
        if (ticks === 1) {
          firstStarted();
          return new Promise<boolean>((resolve) => (finishFirst = () => resolve(false)));
        }
        secondStarted();
        return Promise.resolve(false);
      },
      { intervalMs: 60_000 },
    );
    loop.start();
    await started;

    loop.nudge();
    finishFirst();
    const begun = Date.now();
    await again;

    expect(Date.now() - begun).toBeLessThan(1_000);
    await loop.stop();
  });
});
