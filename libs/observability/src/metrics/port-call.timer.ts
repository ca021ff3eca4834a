import { Histogram, type Registry } from 'prom-client';

type Outcome = 'ok' | 'error';
type Method = (...args: unknown[]) => unknown;

/**
 * Times every method call of a port (repository, bus, model, vector store) in one histogram,
 * `keel_port_call_duration_seconds{port,method,outcome}`, so each adapter is measured the same way
 * without a line of timing code in it. Labels stay bounded: ports and their method names are fixed in code.
 */
export class PortCallTimer {
  private readonly duration: Histogram<'port' | 'method' | 'outcome'>;

  constructor(registry: Registry) {
    this.duration = new Histogram({
      name: 'keel_port_call_duration_seconds',
      help: 'Duration of calls to ports (repositories, buses, models), by outcome',
      labelNames: ['port', 'method', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  /**
   * Returns a view of `target` whose methods are timed; properties that are not functions pass through.
   * Methods run with the unwrapped target as `this`, so a method calling another is measured once.
   */
  wrap<T extends object>(port: string, target: T): T {
    const wrapped = new Map<string, Method>();
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value: unknown = Reflect.get(object, property, receiver);
        if (typeof property !== 'string' || property === 'constructor' || typeof value !== 'function')
          return value;
        let timed = wrapped.get(property);
        if (!timed) {
          timed = this.timed(port, property, value as Method, object);
          wrapped.set(property, timed);
        }
        return timed;
      },
    });
  }

  private timed(port: string, method: string, fn: Method, self: object): Method {
    return (...args) => {
      const stop = this.duration.startTimer({ port, method });
      const finish = (outcome: Outcome) => stop({ outcome });
      let result: unknown;
      try {
        result = fn.apply(self, args);
      } catch (error) {
        finish('error');
        throw error;
      }
      if (!isPromiseLike(result)) {
        finish('ok');
        return result;
      }
      return Promise.resolve(result).then(
        (value) => {
          finish('ok');
          return value;
        },
        (error: unknown) => {
          finish('error');
          throw error;
        },
      );
    };
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
