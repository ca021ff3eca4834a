import type { KafkaPort } from '../kafka-port';

/** A bus that hands out one client per service (the client id names the service in errors and logs). */
export interface InProcessBusClients {
  client(clientId: string): KafkaPort;
}

const buses = new Map<string, InProcessBusClients>();

/**
 * Serves an in-process bus at a broker address for this process: a service configured with
 * `KAFKA_BROKERS=<address>` then gets a client of it instead of a kafkajs connection. Returns the undo.
 * Nothing registers a bus outside the embedded demo, so deployments always reach real brokers.
 */
export function serveInProcessBus(address: string, bus: InProcessBusClients): () => void {
  if (buses.has(address)) throw new Error(`an in-process bus already serves ${address}`);
  buses.set(address, bus);
  return () => {
    if (buses.get(address) === bus) buses.delete(address);
  };
}

/** The in-process bus serving every one of these broker addresses, if there is one. */
export function inProcessBusAt(brokers: readonly string[]): InProcessBusClients | undefined {
  const [first] = brokers;
  const bus = first === undefined ? undefined : buses.get(first);
  return bus && brokers.every((broker) => buses.get(broker) === bus) ? bus : undefined;
}
