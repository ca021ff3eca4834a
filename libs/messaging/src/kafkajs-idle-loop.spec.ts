import { stopKafkaJsIdleLoop } from './kafkajs-idle-loop';

interface QueueState {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  pending: unknown[];
  checkPendingRequests: jest.Mock;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs' internal module has no typings
const { prototype } = require('kafkajs/src/network/requestQueue') as {
  prototype: { scheduleCheckPendingRequests(this: QueueState): void };
};

function queue(pending: unknown[], throttledUntil = -1): QueueState {
  return { throttledUntil, throttleCheckTimeoutId: null, pending, checkPendingRequests: jest.fn() };
}

describe("kafkajs' idle request-queue loop", () => {
  beforeAll(() => stopKafkaJsIdleLoop());
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('arms no timer on an idle, unthrottled connection', () => {
    const idle = queue([]);
    prototype.scheduleCheckPendingRequests.call(idle);
    expect(idle.throttleCheckTimeoutId).toBeNull();
  });

  it('still checks pending requests, and waits out a throttle', () => {
    const waiting = queue([{}]);
    prototype.scheduleCheckPendingRequests.call(waiting);
    jest.advanceTimersByTime(10);
    expect(waiting.checkPendingRequests).toHaveBeenCalledTimes(1);

    const throttled = queue([], Date.now() + 50);
    prototype.scheduleCheckPendingRequests.call(throttled);
    jest.advanceTimersByTime(49);
    expect(throttled.checkPendingRequests).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(throttled.checkPendingRequests).toHaveBeenCalledTimes(1);
  });
});
