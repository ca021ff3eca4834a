import { describeDefinition } from '../describe-definition';
import { type WorkflowDefinition } from '../definition.schema';
import { type JsonValue } from '../json-value';
import { type SimulationScript, simulate } from '../simulator';
import { workflowTemplates } from './workflow-templates';

function template(name: string): WorkflowDefinition {
  const found = workflowTemplates.find((definition) => definition.name === name);
  if (found === undefined) throw new Error(`no template ${name}`);
  return found;
}

const outputs: Record<string, JsonValue> = {
  reserveInventory: { reservationId: 'r-1' },
  bookFreight: { bookingId: 'f-1' },
  bookParcel: { bookingId: 'p-1' },
  confirmOrder: { confirmed: true },
  remediate: { remediationId: 'm-1' },
  verify: { rows: [{ resolved: true }], rowCount: 1 },
  assignQueue: { assignmentId: 'a-1', queue: 'priority' },
  notifyQueue: { topic: 'keel.support.notifications.v1', partition: 0, offset: '42' },
};

/** Every task succeeds with the outputs above, except `failing`, which fails for good. */
function world(failing?: string, overrides: Partial<SimulationScript> = {}): SimulationScript {
  return {
    task: (command) =>
      command.stepId === failing
        ? { outcome: 'fail', retryable: false, error: 'downstream refused' }
        : { outcome: 'succeed', output: outputs[command.stepId] ?? {} },
    ...overrides,
  };
}

const order = {
  orderId: 'o-1',
  lines: [{ sku: 'SKU-1', quantity: 2 }],
  weightKg: 12,
  region: 'EU',
  address: { city: 'Lyon', country: 'FR' },
};

describe('workflow templates', () => {
  it('loads all three templates, each with compensations', () => {
    expect(workflowTemplates.map((definition) => `${definition.name}@${definition.version}`)).toEqual([
      'order-routing@1',
      'exception-handling@1',
      'support-routing@1',
    ]);
    expect(workflowTemplates.map((definition) => describeDefinition(definition).compensatedSteps)).toEqual([
      ['reserveInventory', 'bookFreight', 'bookParcel'],
      ['remediate'],
      ['assignQueue'],
    ]);
  });

  describe('order-routing', () => {
    it('completes with every task succeeding, rendering calls from earlier outputs', async () => {
      const { state, commands } = await simulate(template('order-routing'), {
        input: order,
        script: world(),
      });
      expect(state.status).toBe('completed');
      const calls = commands.flatMap((command) =>
        command.type === 'executeTask' ? [[command.stepId, command.call]] : [],
      );
      expect(calls).toEqual([
        [
          'reserveInventory',
          {
            type: 'http',
            service: 'inventory',
            method: 'POST',
            path: '/reservations',
            body: { orderId: 'o-1', lines: [{ sku: 'SKU-1', quantity: 2 }] },
          },
        ],
        [
          'bookParcel',
          {
            type: 'http',
            service: 'carriers',
            method: 'POST',
            path: '/parcel/bookings',
            headers: { 'x-order-id': 'o-1' },
            body: { orderId: 'o-1', weightKg: 12, destination: { city: 'Lyon', country: 'FR' } },
          },
        ],
        [
          'confirmOrder',
          {
            type: 'http',
            service: 'orders',
            method: 'POST',
            path: '/orders/o-1/confirmation',
            body: { reservationId: 'r-1', carrier: 'parcel', bookingId: 'p-1' },
          },
        ],
      ]);
    });

    it('routes heavy orders to freight and asks the agent outside parcel regions', async () => {
      const heavy = await simulate(template('order-routing'), {
        input: { ...order, weightKg: 45 },
        script: world(),
      });
      expect(heavy.state.executions.bookFreight?.status).toBe('succeeded');

      const abroad = await simulate(template('order-routing'), {
        input: { ...order, region: 'US' },
        script: world(undefined, { decision: () => ({ outcome: 'decide', decision: 'freight' }) }),
      });
      const asked = abroad.commands.find((command) => command.type === 'requestDecision');
      expect(asked).toMatchObject({
        options: ['freight', 'parcel'],
        context: { order: { region: 'US' }, reservation: { reservationId: 'r-1' } },
      });
      expect(abroad.state.executions.bookFreight?.status).toBe('succeeded');
      expect(abroad.state.status).toBe('completed');
    });

    it('compensates the booking, then the reservation, when the last task fails', async () => {
      const { state, commands } = await simulate(template('order-routing'), {
        input: order,
        script: world('confirmOrder'),
      });
      expect(state.status).toBe('compensated');
      expect(
        commands.flatMap((command) => (command.type === 'executeCompensation' ? [command.call] : [])),
      ).toEqual([
        { type: 'http', service: 'carriers', method: 'DELETE', path: '/parcel/bookings/p-1' },
        { type: 'http', service: 'inventory', method: 'DELETE', path: '/reservations/r-1' },
      ]);
    });
  });

  describe('exception-handling', () => {
    const exception = { exceptionId: 'x-1', orderId: 'o-1', kind: 'lost-parcel' };

    it('completes when the remediation verifies', async () => {
      const { state, commands } = await simulate(template('exception-handling'), {
        input: exception,
        script: world(),
      });
      expect(state.status).toBe('completed');
      expect(
        commands.find((command) => command.type === 'executeTask' && command.stepId === 'verify'),
      ).toMatchObject({
        call: { type: 'postgres', statement: 'exception.remediation_status', params: ['x-1', 'm-1'] },
      });
      expect(commands.some((command) => command.type === 'requestApproval')).toBe(false);
    });

    it('asks a person when verification fails, escalating after a timeout, and completes on approval', async () => {
      let requests = 0;
      const { state, commands } = await simulate(template('exception-handling'), {
        input: exception,
        script: world(undefined, {
          task: (command) => ({
            outcome: 'succeed',
            output:
              command.stepId === 'verify' ? { rows: [{ resolved: false }] } : (outputs[command.stepId] ?? {}),
          }),
          approval: () =>
            ++requests === 1 ? { outcome: 'ignore' } : { outcome: 'grant', by: 'ops-manager-1' },
        }),
      });
      expect(state.status).toBe('completed');
      expect(commands.filter((command) => command.type === 'requestApproval')).toEqual([
        expect.objectContaining({
          approverRole: 'ops-lead',
          escalated: false,
          prompt: expect.stringContaining("after 'reship'") as unknown,
        }),
        expect.objectContaining({ approverRole: 'ops-manager', escalated: true }),
      ]);
    });

    it('undoes the remediation when the last task fails', async () => {
      const { state, commands } = await simulate(template('exception-handling'), {
        input: exception,
        script: world('verify'),
      });
      expect(state.status).toBe('compensated');
      expect(
        commands.flatMap((command) => (command.type === 'executeCompensation' ? [command.call] : [])),
      ).toEqual([{ type: 'http', service: 'remediation', method: 'DELETE', path: '/remediations/m-1' }]);
    });
  });

  describe('support-routing', () => {
    const ticket = { ticketId: 't-1', priority: 'high', customerId: 'c-1', skills: ['billing'] };

    it('notifies the queue, waits out the SLA and completes once the agent reports it resolved', async () => {
      const { state, commands } = await simulate(template('support-routing'), {
        input: ticket,
        startAt: new Date('2025-05-01T09:00:00Z'),
        script: world(),
      });
      expect(state.status).toBe('completed');
      expect(
        commands.find((command) => command.type === 'executeTask' && command.stepId === 'notifyQueue'),
      ).toMatchObject({
        call: {
          type: 'kafka',
          topic: 'keel.support.notifications.v1',
          key: 't-1',
          value: { ticketId: 't-1', queue: 'priority', customerId: 'c-1' },
        },
      });
      expect(
        commands.find((command) => command.type === 'scheduleTimer' && command.purpose === 'wait'),
      ).toMatchObject({
        dueAt: '2025-05-01T10:00:00.000Z',
      });
    });

    it('escalates an unresolved ticket and leaves it queued when the lead declines', async () => {
      const { state } = await simulate(template('support-routing'), {
        input: ticket,
        script: world(undefined, {
          decision: () => ({ outcome: 'decide', decision: 'unresolved' }),
          approval: () => ({ outcome: 'reject', by: 'lead-1' }),
        }),
      });
      expect(state.status).toBe('completed');
      expect(state.context.steps.escalate?.output).toMatchObject({ approved: false, by: 'lead-1' });
    });

    it('unassigns the ticket when the last task fails', async () => {
      const { state, commands } = await simulate(template('support-routing'), {
        input: ticket,
        script: world('notifyQueue'),
      });
      expect(state.status).toBe('compensated');
      expect(
        commands.flatMap((command) => (command.type === 'executeCompensation' ? [command.call] : [])),
      ).toEqual([
        { type: 'http', service: 'support', method: 'DELETE', path: '/tickets/t-1/assignment/a-1' },
      ]);
    });
  });
});
