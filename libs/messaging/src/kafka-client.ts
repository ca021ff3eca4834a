import { connect } from 'node:net';
import { type ISocketFactory, Kafka, logLevel } from 'kafkajs';
import { inProcessBusAt } from './in-process/in-process-registry';
import type { KafkaPort } from './kafka-port';
import { stopKafkaJsIdleLoop } from './kafkajs-idle-loop';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /**
   * How broker connections are opened (by default a plain TCP socket to the advertised address); Nagle's
   * algorithm is turned off on whatever it opens.
   */
  readonly socketFactory?: ISocketFactory;
}

/** As kafkajs' own socket factory keeps its connections alive. */
const keepAliveInitialDelayMs = 60_000;

const plainSocket: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  // kafkajs hands the client's TLS settings to the factory; this one would open plain TCP to a TLS listener.
  if (ssl) throw new Error('createKafka opens plain TCP connections only: pass a socketFactory for TLS');
  return connect({ host, port, keepAlive: true, keepAliveInitialDelay: keepAliveInitialDelayMs }, onConnect);
};

/**
 * Broker connections as `open` makes them (a plain TCP socket by default), with Nagle's algorithm off, as
 * Kafka's own clients have theirs (kafkajs leaves it on): with it on, a request written while an earlier one on
 * the same connection is unacknowledged waits for the broker's delayed ACK. Measured: ADR 0036.
 */
export function brokerSockets(open: ISocketFactory = plainSocket): ISocketFactory {
  return (args) => open(args).setNoDelay(true);
}

/** One kafkajs client per process; kafkajs' own logging is reduced to errors (our logs carry the context). */
export function createKafka(options: KafkaClientOptions): Kafka {
  stopKafkaJsIdleLoop();
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.ERROR,
    retry: { initialRetryTime: 100, retries: 8 },
    socketFactory: brokerSockets(options.socketFactory),
  });
}

/**
 * The client a service's messaging uses: the in-process bus when this process serves one at these broker
 * addresses (the embedded demo, `serveInProcessBus`), otherwise a kafkajs client as `createKafka` makes it.
 */
export function kafkaClient(options: KafkaClientOptions): KafkaPort {
  return inProcessBusAt(options.brokers)?.client(options.clientId) ?? createKafka(options);
}
