import { type ISocketFactory, Kafka, logLevel } from 'kafkajs';
import { inProcessBusAt } from './in-process/in-process-registry';
import type { KafkaPort } from './kafka-port';
import { stopKafkaJsIdleLoop } from './kafkajs-idle-loop';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** How broker connections are opened (kafkajs' default: a plain TCP socket to the advertised address). */
  readonly socketFactory?: ISocketFactory;
}

/** One kafkajs client per process; kafkajs' own logging is reduced to errors (our logs carry the context). */
export function createKafka(options: KafkaClientOptions): Kafka {
  stopKafkaJsIdleLoop();
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.ERROR,
    retry: { initialRetryTime: 100, retries: 8 },
    ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
  });
}

/**
 * The client a service's messaging uses: the in-process bus when this process serves one at these broker
 * addresses (the embedded demo, `serveInProcessBus`), otherwise a kafkajs client as `createKafka` makes it.
 */
export function kafkaClient(options: KafkaClientOptions): KafkaPort {
  return inProcessBusAt(options.brokers)?.client(options.clientId) ?? createKafka(options);
}
