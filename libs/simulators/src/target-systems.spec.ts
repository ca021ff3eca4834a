import { metricNamingProblems } from '@keel/observability';
import { TargetSystems } from './target-systems.host';

describe('target system simulators', () => {
  const outcomes: { exceptionId: string; resolved: boolean }[] = [];
  const systems = new TargetSystems({
    inventory: { stock: { 'SKU-LOW': 1 } },
    recordRemediation: (outcome) => {
      outcomes.push(outcome);
      return Promise.resolve();
    },
  });

  beforeAll(() => systems.start());
  afterAll(() => systems.stop());

  const call = async (service: string, method: string, path: string, body?: unknown, key?: string) => {
    const base = systems
      .workflowHttpServices()
      .split(',')
      .find((entry) => entry.startsWith(`${service}=`));
    const response = await fetch(`${base?.split('=')[1]}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('reserves once per idempotency key, refuses what is out of stock and releases on compensation', async () => {
    const lines = [{ sku: 'SKU-LOW', quantity: 1 }];
    const first = await call('inventory', 'POST', '/reservations', { orderId: 'o-1', lines }, 'k-1');
    const again = await call('inventory', 'POST', '/reservations', { orderId: 'o-1', lines }, 'k-1');
    expect(first.status).toBe(201);
    expect(again).toEqual(first);
    expect(systems.inventory.stockOf('SKU-LOW')).toBe(0);
    const short = await call('inventory', 'POST', '/reservations', { orderId: 'o-2', lines }, 'k-2');
    expect(short).toEqual({ status: 409, body: { error: 'out of stock: SKU-LOW (0 left)' } });
    await call('inventory', 'DELETE', `/reservations/${String(first.body.reservationId)}`, undefined, 'k-3');
    expect(systems.inventory.stockOf('SKU-LOW')).toBe(1);
    expect((await call('inventory', 'POST', '/reservations', { orderId: 'o-3' })).status).toBe(400);
  });

  it('books parcels up to the weight limit, and the order system measures the confirmed order', async () => {
    const heavy = await call('carriers', 'POST', '/parcel/bookings', {
      orderId: 'o-9',
      weightKg: 16,
      destination: { country: 'DE' },
    });
    expect(heavy.status).toBe(422);
    systems.orders.placed({
      orderId: 'o-4',
      occurredAt: new Date('2026-11-30T08:00:00Z'),
      promisedBy: new Date('2026-12-02T08:00:00Z'),
    });
    const booking = await call('carriers', 'POST', '/parcel/bookings', {
      orderId: 'o-4',
      weightKg: 2,
      destination: { country: 'US' },
    });
    expect(booking.body).toMatchObject({ transitDays: 3, cost: 6.9, currency: 'EUR' });
    const confirmed = await call('orders', 'POST', '/orders/o-4/confirmation', {
      bookingId: booking.body.bookingId,
    });
    expect(confirmed.body).toMatchObject({ status: 'confirmed', onTime: false });
    const metrics = await systems.registry.getMetricsAsJSON();
    const deliveries = metrics.find((metric) => metric.name === 'keel_kpi_order_deliveries_total');
    expect(deliveries?.values).toEqual([expect.objectContaining({ labels: { on_time: 'false' }, value: 1 })]);
  });

  it('records whether a remediation resolved the exception, and measures queue utilisation', async () => {
    systems.remediation.raised('X-1', 'carrier-delay');
    systems.remediation.raised('X-2', 'stock-out');
    await call('remediation', 'POST', '/remediations', { exceptionId: 'X-1', action: 'manual' });
    await call('remediation', 'POST', '/remediations', { exceptionId: 'X-2', action: 'manual' });
    expect(outcomes.map(({ exceptionId, resolved }) => [exceptionId, resolved])).toEqual([
      ['X-1', true],
      ['X-2', false],
    ]);
    systems.support.created('T-1');
    await call('support', 'POST', '/tickets/T-1/assignment', { queue: 'priority', skills: [] });
    expect(systems.support.openAssignments('priority')).toBe(1);
    const metrics = await systems.registry.getMetricsAsJSON();
    const utilisation = metrics.find((metric) => metric.name === 'keel_kpi_support_queue_utilisation_ratio');
    expect(utilisation?.values).toContainEqual(
      expect.objectContaining({ labels: { queue: 'priority' }, value: 0.5 }),
    );
  });

  it('names its KPIs by the metric conventions', () => {
    expect(metricNamingProblems(systems.registry)).toEqual([]);
  });
});
