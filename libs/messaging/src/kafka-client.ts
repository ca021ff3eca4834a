import { type ISocketFactory, Kafka, logLevel } from 'kafkajs';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** How broker connections are opened (kafkajs' default: a plain TCP socket to the advertised address). */
  readonly socketFactory?: ISocketFactory;
}

/** One kafkajs client per process; kafkajs' own logging is reduced to errors (our logs carry the context). */
export function createKafka(options: KafkaClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: logLevel.ERROR,
    retry: { initialRetryTime: 100, retries: 8 },
    ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
  });
}
