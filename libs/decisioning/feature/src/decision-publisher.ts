import { type OutboxWriter, type Topics } from '@keel/messaging';
import type { DataSource } from 'typeorm';
import { type DecisionOutcome } from './decide.usecase';
import { type CaseMemoryRepository } from './persistence/case-memory.repository';

/**
 * Publishes decided triggers in one short transaction: the records are stored (each once, by decision id),
 * the new ones — and only those — go to the outbox with their workflow signals, and the triggers leave the
 * queue. A trigger decided twice (after a crash, or by a replica that lost the queue's lock mid-decision)
 * therefore publishes once; the second outcome only takes its trigger out of the queue.
 */
export class DecisionPublisher {
  constructor(
    private readonly dataSource: DataSource,
    private readonly caseMemory: CaseMemoryRepository,
    private readonly outbox: OutboxWriter,
    private readonly topics: Topics,
  ) {}

  /** Returns the outcomes whose production decision was published now (not before). */
  publish(outcomes: readonly DecisionOutcome[]): Promise<DecisionOutcome[]> {
    return this.dataSource.transaction(async (manager) => {
      const fresh = await this.caseMemory.saveDecisions(
        manager,
        outcomes.flatMap(({ tenant, records }) => records.map((record) => ({ tenant, record }))),
        outcomes.map((outcome) => outcome.decisionId),
      );
      // Outbox ids follow this order, and the relay publishes in id order: a case's decisions keep queue order.
      await this.outbox.enqueue(
        manager,
        this.topics.decisions,
        outcomes.flatMap((outcome) => outcome.decisions.filter((event) => fresh.has(event.id))),
      );
      // A workflow signal goes with production's decision, and only with the one stored now.
      const published = outcomes.filter((outcome) => fresh.has(outcome.decisionId));
      await this.outbox.enqueue(
        manager,
        this.topics.workflowCommands,
        published.flatMap((outcome) => outcome.workflowCommands),
      );
      return published;
    });
  }
}
