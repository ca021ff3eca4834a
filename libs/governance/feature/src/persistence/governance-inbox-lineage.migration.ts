import { assertSchemaName } from '@keel/persistence';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The approvals inbox, the people tied to a case (four-eyes), the audit chain's retention checkpoints, and the
 * index lineage follows from a normalized event to the raw event that caused it.
 */
export function governanceInboxLineageMigration(schema: string): new () => MigrationInterface {
  assertSchemaName(schema);
  const table = (name: string) => `"${schema}"."${name}"`;
  return class GovernanceInboxLineage1764600000300 implements MigrationInterface {
    readonly name = 'GovernanceInboxLineage1764600000300';

    async up(queryRunner: QueryRunner): Promise<void> {
      // Lineage looks rows up by event id (a normalized event's causation, a decision's input events).
      await queryRunner.query(
        `CREATE INDEX "audit_log_event_idx" ON ${table('audit_log')} (tenant, event_id)`,
      );
      await queryRunner.query(`
        CREATE TABLE ${table('audit_checkpoints')} (
          tenant text NOT NULL,
          position bigint NOT NULL,
          row_hash text NOT NULL,
          pruned_at timestamptz NOT NULL,
          pruned_rows bigint NOT NULL,
          signature text NOT NULL,
          PRIMARY KEY (tenant, position)
        )`);
      await queryRunner.query(`
        CREATE TABLE ${table('approval_items')} (
          tenant text NOT NULL,
          id text NOT NULL,
          kind text NOT NULL,
          case_id text NOT NULL,
          status text NOT NULL,
          title text NOT NULL,
          approver_role text NOT NULL,
          due_at timestamptz,
          escalated boolean NOT NULL DEFAULT false,
          escalated_at timestamptz,
          instance_id text,
          step_id text,
          run integer,
          decision_id text,
          requested_at timestamptz NOT NULL,
          requested_by text[] NOT NULL DEFAULT '{}',
          context jsonb NOT NULL,
          decided_by text,
          reason text,
          decided_at timestamptz,
          PRIMARY KEY (tenant, id)
        )`);
      await queryRunner.query(
        `CREATE INDEX "approval_items_pending_idx" ON ${table('approval_items')} (tenant, status, requested_at)`,
      );
      await queryRunner.query(`
        CREATE TABLE ${table('case_parties')} (
          tenant text NOT NULL,
          case_id text NOT NULL,
          party text NOT NULL,
          PRIMARY KEY (tenant, case_id, party)
        )`);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      for (const name of ['case_parties', 'approval_items', 'audit_checkpoints'])
        await queryRunner.query(`DROP TABLE ${table(name)}`);
      await queryRunner.query(`DROP INDEX "${schema}"."audit_log_event_idx"`);
    }
  };
}

/** Finds the guardrail holds past their deadline without scanning answered items. */
export function governanceHoldDeadlinesMigration(schema: string): new () => MigrationInterface {
  assertSchemaName(schema);
  return class GovernanceHoldDeadlines1764600000400 implements MigrationInterface {
    readonly name = 'GovernanceHoldDeadlines1764600000400';

    async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(
        `CREATE INDEX "approval_items_due_holds_idx" ON "${schema}"."approval_items" (due_at)
         WHERE kind = 'guardrail-hold' AND status = 'pending' AND NOT escalated`,
      );
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query(`DROP INDEX "${schema}"."approval_items_due_holds_idx"`);
    }
  };
}
