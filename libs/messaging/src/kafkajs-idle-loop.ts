/**
 * kafkajs 2.2.4 re-arms a 1 ms timer on every broker connection whenever nothing is pending and nothing is
 * throttled (`RequestQueue.scheduleCheckPendingRequests` schedules a check at `throttledUntil - now`, negative),
 * so an idle connection wakes the event loop ~1,000 times a second for nothing: measured here ~1,600 wake-ups
 * per second and 3–4 % of a core per idle service (tulios/kafkajs#1556, #1704; the fix of #1667, unreleased).
 * The same method with that case returning early: a request pushed later schedules its own check, and a
 * fulfilled one checks the queue, so nothing is left waiting.
 */
interface RequestQueueInternals {
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  readonly pending: readonly unknown[];
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs' own interval for re-checking pending requests (src/network/requestQueue/index.js). */
const checkPendingRequestsIntervalMs = 10;
const patched = Symbol.for('keel.kafkajs.idle-loop-patched');
/** The release whose internals this replaces; any other is left as it is (a newer one may carry the fix). */
const patchedRelease = '2.2.4';

export function stopKafkaJsIdleLoop(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the installed release decides whether to patch
  if ((require('kafkajs/package.json') as { version: string }).version !== patchedRelease) return;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- kafkajs' internal module has no typings
  const RequestQueue = require('kafkajs/src/network/requestQueue') as {
    prototype: RequestQueueInternals & { [patched]?: true };
  };
  const prototype = RequestQueue.prototype;
  if (prototype[patched]) return;
  prototype[patched] = true;
  prototype.scheduleCheckPendingRequests = function (this: RequestQueueInternals): void {
    if (this.throttleCheckTimeoutId) return;
    let scheduleAt = this.throttledUntil - Date.now();
    if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : checkPendingRequestsIntervalMs;
    else if (scheduleAt <= 0) return;
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, scheduleAt);
  };
}
