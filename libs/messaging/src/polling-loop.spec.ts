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
});
