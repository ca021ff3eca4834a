import { type OutboxWriter, type Topics } from '@keel/messaging';
import type { DataSource } from 'typeorm';
import { type DecisionOutcome } from './decide.usecase';
import { type CaseMemoryRepository } from './persistence/case-memory.repository';

/**
 * Outcomes published in one statement at most: an outcome takes up to 23 parameters (production's record and
 * a shadow's, four each; their events and a workflow signal, five each), and Postgres takes 65,535.
 */
const outcomesPerStatement = 1_000;

/**
 * Publishes decided triggers in one statement (per thousand), atomic without a transaction: the records are stored (each
 * once, by decision id), the new ones — and only those — go to the outbox with their workflow signals, and
 * the triggers leave the queue. A trigger decided twice (after a crash, or by a replica that lost the queue's
 * lock mid-decision) therefore publishes once; the second outcome only takes its trigger out of the queue.
 */
export class DecisionPublisher {
  constructor(
    private readonly dataSource: DataSource,
    private readonly caseMemory: CaseMemoryRepository,
    private readonly outbox: OutboxWriter,
    private readonly topics: Topics,
  ) {}

  /** Returns the outcomes whose production decision was published now (not before). */
  async publish(outcomes: readonly DecisionOutcome[]): Promise<DecisionOutcome[]> {
    const published: DecisionOutcome[] = [];
    // In order: the outbox ids of a later statement follow the earlier one's.
    for (let first = 0; first < outcomes.length; first += outcomesPerStatement)
      published.push(...(await this.publishAtOnce(outcomes.slice(first, first + outcomesPerStatement))));
    return published;
  }

  private async publishAtOnce(outcomes: readonly DecisionOutcome[]): Promise<DecisionOutcome[]> {
    const { manager } = this.dataSource;
    const decisions = outcomes.flatMap((outcome) => outcome.decisions);
    // A workflow signal goes with production's decision, and only with the one stored now.
    const signals = outcomes.flatMap((outcome) =>
      outcome.workflowCommands.map((event) => ({ event, decisionId: outcome.decisionId })),
    );
    // Outbox ids follow this order, and the relay publishes in id order: a case's decisions keep queue order.
    const insert = this.outbox.insert(
      [
        ...this.outbox.records(this.topics.decisions, decisions),
        ...this.outbox.records(
          this.topics.workflowCommands,
          signals.map(({ event }) => event),
        ),
      ],
      [...decisions.map((event) => event.id), ...signals.map(({ decisionId }) => decisionId)],
    );
    const fresh = await this.caseMemory.saveDecisions(
      manager,
      outcomes.flatMap(({ tenant, records }) => records.map((record) => ({ tenant, record }))),
      outcomes.map((outcome) => outcome.decisionId),
      insert,
    );
    if (insert.rows > 0 && fresh.size > 0) this.outbox.written(manager);
    return outcomes.filter((outcome) => fresh.has(outcome.decisionId));
  }
}
