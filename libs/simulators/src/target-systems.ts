import type { KpiMetrics } from './kpi.metrics';
import {
  type SimulatedRequest,
  type SimulatedResponse,
  SimulatorServer,
  notFound,
  ok,
  refused,
  requiredString,
} from './simulator-server';

/** Stock on hand, by SKU; a SKU not listed has `defaultStock`. */
export interface InventoryOptions {
  readonly stock?: Readonly<Record<string, number>>;
  readonly defaultStock?: number;
}

interface OrderLine {
  readonly sku: string;
  readonly quantity: number;
}

/**
 * Inventory (`service: inventory`): `POST /reservations { orderId, lines }` holds stock for every line or
 * none (409 naming the short SKU: a failure for good, nothing to undo); `DELETE /reservations/:id` releases it
 * (the order routing workflow's compensation).
 */
export class InventorySimulator extends SimulatorServer {
  readonly name = 'inventory';
  private readonly available = new Map<string, number>();
  private readonly reservations = new Map<string, { orderId: string; lines: OrderLine[] }>();
  private readonly defaultStock: number;

  constructor(options: InventoryOptions = {}) {
    super();
    this.defaultStock = options.defaultStock ?? 100;
    for (const [sku, quantity] of Object.entries(options.stock ?? {})) this.available.set(sku, quantity);
  }

  stockOf(sku: string): number {
    return this.available.get(sku) ?? this.defaultStock;
  }

  openReservations(): number {
    return this.reservations.size;
  }

  protected route(request: SimulatedRequest): SimulatedResponse {
    const [collection, id] = request.segments;
    if (collection !== 'reservations') return notFound(request);
    if (request.method === 'POST' && id === undefined) return this.reserve(request.body);
    if (request.method === 'DELETE' && id !== undefined) return this.release(id);
    return notFound(request);
  }

  private reserve(body: Record<string, unknown>): SimulatedResponse {
    const orderId = requiredString(body, 'orderId');
    if (typeof orderId !== 'string') return orderId;
    const lines = parseLines(body.lines);
    if (typeof lines === 'string') return refused(400, lines);
    const short = lines.find((line) => this.stockOf(line.sku) < line.quantity);
    if (short) return refused(409, `out of stock: ${short.sku} (${this.stockOf(short.sku)} left)`);
    for (const line of lines) this.available.set(line.sku, this.stockOf(line.sku) - line.quantity);
    const reservationId = `res-${orderId}-${this.reservations.size + 1}`;
    this.reservations.set(reservationId, { orderId, lines });
    return ok({ reservationId, orderId, lines: lines.length }, 201);
  }

  private release(reservationId: string): SimulatedResponse {
    const reservation = this.reservations.get(reservationId);
    // Releasing twice (a retried compensation) finds nothing left to release and says so.
    if (!reservation) return ok({ reservationId, released: false });
    for (const line of reservation.lines)
      this.available.set(line.sku, this.stockOf(line.sku) + line.quantity);
    this.reservations.delete(reservationId);
    return ok({ reservationId, released: true });
  }
}

function parseLines(value: unknown): OrderLine[] | string {
  if (!Array.isArray(value) || value.length === 0) return 'lines: expected a non-empty array';
  const lines: OrderLine[] = [];
  for (const [index, line] of value.entries()) {
    const { sku, quantity } = (line ?? {}) as Record<string, unknown>;
    if (typeof sku !== 'string' || typeof quantity !== 'number' || !(quantity > 0)) {
      return `lines.${index}: expected { sku, quantity > 0 }`;
    }
    lines.push({ sku, quantity });
  }
  return lines;
}

export type CarrierMode = 'parcel' | 'freight';

export interface CarrierBooking {
  readonly bookingId: string;
  readonly orderId: string;
  readonly mode: CarrierMode;
  readonly weightKg: number;
  readonly country: string;
  /** Days from placement to delivery the carrier commits to. */
  readonly transitDays: number;
  readonly cost: number;
  readonly currency: 'EUR';
}

export interface CarrierOptions {
  /** Heaviest parcel the parcel carrier takes (heavier ones are refused 422: the order must go by freight). */
  readonly parcelMaxKg?: number;
}

const euCountries = new Set([
  'AT',
  'BE',
  'DE',
  'DK',
  'ES',
  'FI',
  'FR',
  'IE',
  'IT',
  'NL',
  'PL',
  'PT',
  'SE',
  'GB',
]);

/**
 * Carriers (`service: carriers`): `POST /parcel/bookings` and `POST /freight/bookings { orderId, weightKg,
 * destination }` book a shipment with a price and a transit time by destination; `DELETE …/bookings/:id`
 * cancels it. Parcels over `parcelMaxKg` are refused (422, a failure for good that makes the workflow undo
 * its reservation).
 */
export class CarrierSimulator extends SimulatorServer {
  readonly name = 'carriers';
  private readonly bookings = new Map<string, CarrierBooking>();
  private readonly cancelled = new Set<string>();
  private readonly parcelMaxKg: number;

  constructor(options: CarrierOptions = {}) {
    super();
    this.parcelMaxKg = options.parcelMaxKg ?? 15;
  }

  booking(bookingId: string): CarrierBooking | undefined {
    return this.cancelled.has(bookingId) ? undefined : this.bookings.get(bookingId);
  }

  protected route(request: SimulatedRequest): SimulatedResponse {
    const [mode, collection, id] = request.segments;
    if ((mode !== 'parcel' && mode !== 'freight') || collection !== 'bookings') return notFound(request);
    if (request.method === 'POST' && id === undefined) return this.book(mode, request.body);
    if (request.method === 'DELETE' && id !== undefined) return this.cancel(id);
    return notFound(request);
  }

  private book(mode: CarrierMode, body: Record<string, unknown>): SimulatedResponse {
    const orderId = requiredString(body, 'orderId');
    if (typeof orderId !== 'string') return orderId;
    const weightKg = body.weightKg;
    if (typeof weightKg !== 'number' || !(weightKg > 0))
      return refused(400, 'weightKg: expected a number > 0');
    const destination = (body.destination ?? {}) as Record<string, unknown>;
    const country = typeof destination.country === 'string' ? destination.country : '';
    if (country.length === 0) return refused(400, 'destination.country: expected a country code');
    if (mode === 'parcel' && weightKg > this.parcelMaxKg) {
      return refused(422, `parcel over ${this.parcelMaxKg} kg (${weightKg} kg): book freight`);
    }
    const domestic = euCountries.has(country);
    // Parcel: express inside the EU (1 day), ground to the US (3), post to the rest (4); freight is slower.
    const transitDays = mode === 'parcel' ? (domestic ? 1 : country === 'US' ? 3 : 4) : domestic ? 3 : 6;
    const cost = mode === 'parcel' ? 4.5 + 1.2 * weightKg : 60 + 0.8 * weightKg;
    const bookingId = `${mode}-${orderId}-${this.bookings.size + 1}`;
    const booking: CarrierBooking = {
      bookingId,
      orderId,
      mode,
      weightKg,
      country,
      transitDays,
      cost: Math.round(cost * 100) / 100,
      currency: 'EUR',
    };
    this.bookings.set(bookingId, booking);
    return ok({ ...booking }, 201);
  }

  private cancel(bookingId: string): SimulatedResponse {
    if (!this.bookings.has(bookingId)) return ok({ bookingId, cancelled: false });
    this.cancelled.add(bookingId);
    return ok({ bookingId, cancelled: true });
  }
}

/** What the order system knows of an order it placed: when, and what it promised the customer. */
export interface PlacedOrder {
  readonly orderId: string;
  /** When the order was placed, in the source data's time (the promise is measured from it). */
  readonly occurredAt: Date;
  readonly promisedBy: Date;
}

/**
 * The order system (`service: orders`): it places orders (the demo's replay tells it, `placed`) and takes
 * the workflow's `POST /orders/:id/confirmation { reservationId, carrier, bookingId }`. At confirmation it
 * measures the order routing KPIs: cycle time (placement to confirmation, wall clock), whether the booked
 * carrier's delivery (placement + transit days) meets the promised date, and the carrier cost.
 */
export class OrderSystemSimulator extends SimulatorServer {
  readonly name = 'orders';
  private readonly placedAt = new Map<string, { order: PlacedOrder; seenAt: number }>();
  private readonly confirmed = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly carriers: CarrierSimulator,
    private readonly kpis: KpiMetrics,
    private readonly clock: () => number = Date.now,
  ) {
    super();
  }

  /** The order system emitted `order.placed` for this order (the first time counts). */
  placed(order: PlacedOrder): void {
    if (!this.placedAt.has(order.orderId)) this.placedAt.set(order.orderId, { order, seenAt: this.clock() });
  }

  confirmations(): number {
    return this.confirmed.size;
  }

  protected route(request: SimulatedRequest): SimulatedResponse {
    const [collection, orderId, action] = request.segments;
    if (collection === 'orders' && orderId && action === 'confirmation' && request.method === 'POST') {
      return this.confirm(orderId, request.body);
    }
    if (collection === 'orders' && orderId && action === undefined && request.method === 'GET') {
      const confirmation = this.confirmed.get(orderId);
      return confirmation ? ok(confirmation) : refused(404, `order ${orderId} is not confirmed`);
    }
    return notFound(request);
  }

  private confirm(orderId: string, body: Record<string, unknown>): SimulatedResponse {
    const bookingId = requiredString(body, 'bookingId');
    if (typeof bookingId !== 'string') return bookingId;
    const booking = this.carriers.booking(bookingId);
    if (!booking || booking.orderId !== orderId) {
      return refused(422, `booking ${bookingId} is not a live booking of order ${orderId}`);
    }
    const known = this.confirmed.get(orderId);
    if (known) return ok(known);
    const placed = this.placedAt.get(orderId);
    const confirmation: Record<string, unknown> = {
      orderId,
      status: 'confirmed',
      carrier: booking.mode,
      bookingId,
      reservationId: body.reservationId ?? null,
    };
    if (placed) {
      const deliveredBy = placed.order.occurredAt.getTime() + booking.transitDays * 86_400_000;
      const onTime = deliveredBy <= placed.order.promisedBy.getTime();
      confirmation.expectedDelivery = new Date(deliveredBy).toISOString();
      confirmation.onTime = onTime;
      this.kpis.orderCycle.observe((this.clock() - placed.seenAt) / 1000);
      this.kpis.deliveries.inc({ on_time: String(onTime) });
    }
    this.kpis.orderCost.inc({ currency: booking.currency }, booking.cost);
    this.kpis.ordersConfirmed.inc();
    this.confirmed.set(orderId, confirmation);
    return ok(confirmation, 201);
  }
}

/** Where a remediation's outcome is recorded for the workflow's verify step (a Postgres table in the demo). */
export type RemediationOutcomeWriter = (outcome: {
  readonly exceptionId: string;
  readonly remediationId: string;
  readonly resolved: boolean;
}) => Promise<void>;

/**
 * The remediation desk (`service: remediation`): `POST /remediations { exceptionId, orderId, action }` runs a
 * remediation and records whether it resolved the exception where the workflow's `verify` statement reads
 * it; `DELETE /remediations/:id` undoes it. What resolves what: a reship fixes lost or damaged goods and
 * stock-outs, a refund fixes payment and price problems, manual handling fixes what a person at the desk can
 * (carrier delays, invalid addresses); the desk knows each exception's kind from the feed (`raised`).
 */
export class RemediationSimulator extends SimulatorServer {
  readonly name = 'remediation';
  private readonly kinds = new Map<string, string>();
  private readonly remediations = new Map<string, { exceptionId: string; action: string }>();

  constructor(
    private readonly kpis: KpiMetrics,
    private readonly record: RemediationOutcomeWriter,
  ) {
    super();
  }

  /** The exception feed raised this exception. */
  raised(exceptionId: string, kind: string): void {
    this.kinds.set(exceptionId, kind);
  }

  protected async route(request: SimulatedRequest): Promise<SimulatedResponse> {
    const [collection, id] = request.segments;
    if (collection !== 'remediations') return notFound(request);
    if (request.method === 'POST' && id === undefined) return this.remediate(request.body);
    if (request.method === 'DELETE' && id !== undefined) {
      const undone = this.remediations.delete(id);
      return ok({ remediationId: id, undone });
    }
    return notFound(request);
  }

  private async remediate(body: Record<string, unknown>): Promise<SimulatedResponse> {
    const exceptionId = requiredString(body, 'exceptionId');
    if (typeof exceptionId !== 'string') return exceptionId;
    const action = requiredString(body, 'action');
    if (typeof action !== 'string') return action;
    const kind = this.kinds.get(exceptionId) ?? 'unknown';
    const resolved = (fixes[action] ?? []).includes(kind);
    const remediationId = `rem-${exceptionId}-${this.remediations.size + 1}`;
    // Recorded before answering: the workflow's verify step reads it right after this call succeeds.
    await this.record({ exceptionId, remediationId, resolved });
    this.remediations.set(remediationId, { exceptionId, action });
    this.kpis.remediations.inc({ action, outcome: resolved ? 'resolved' : 'unresolved' });
    return ok({ remediationId, exceptionId, action, kind, resolved }, 201);
  }
}

const fixes: Readonly<Record<string, readonly string[]>> = {
  reship: ['lost', 'damaged', 'stock-out'],
  refund: ['payment-failed', 'price-error'],
  manual: ['carrier-delay', 'address-invalid'],
};

export interface SupportDeskOptions {
  /** Agents per queue (queue utilisation = open assignments ÷ agents). */
  readonly agents?: Readonly<Record<string, number>>;
}

/**
 * The support desk (`service: support`): `POST /tickets/:id/assignment { queue, skills }` assigns a ticket to
 * a queue's agent, `DELETE /tickets/:id/assignment/:assignmentId` takes it back. It measures first contact
 * (ticket created, told by `created`, to the first assignment) and each queue's utilisation.
 */
export class SupportDeskSimulator extends SimulatorServer {
  readonly name = 'support';
  private readonly createdAt = new Map<string, number>();
  private readonly assignments = new Map<string, { ticketId: string; queue: string }>();
  private readonly agents: Readonly<Record<string, number>>;

  constructor(
    private readonly kpis: KpiMetrics,
    options: SupportDeskOptions = {},
    private readonly clock: () => number = Date.now,
  ) {
    super();
    this.agents = options.agents ?? { priority: 2, standard: 4 };
    for (const queue of Object.keys(this.agents)) this.kpis.queueUtilisation.set({ queue }, 0);
  }

  created(ticketId: string): void {
    if (!this.createdAt.has(ticketId)) this.createdAt.set(ticketId, this.clock());
  }

  openAssignments(queue: string): number {
    return [...this.assignments.values()].filter((assignment) => assignment.queue === queue).length;
  }

  protected route(request: SimulatedRequest): SimulatedResponse {
    const [collection, ticketId, action, assignmentId] = request.segments;
    if (collection !== 'tickets' || !ticketId || action !== 'assignment') return notFound(request);
    if (request.method === 'POST' && assignmentId === undefined) return this.assign(ticketId, request.body);
    if (request.method === 'DELETE' && assignmentId !== undefined) return this.unassign(assignmentId);
    return notFound(request);
  }

  private assign(ticketId: string, body: Record<string, unknown>): SimulatedResponse {
    const queue = requiredString(body, 'queue');
    if (typeof queue !== 'string') return queue;
    const agents = this.agents[queue];
    if (agents === undefined) return refused(422, `no queue ${queue}`);
    const first = ![...this.assignments.values()].some((assignment) => assignment.ticketId === ticketId);
    const open = this.openAssignments(queue);
    const assignmentId = `asg-${ticketId}-${this.assignments.size + 1}`;
    this.assignments.set(assignmentId, { ticketId, queue });
    const created = this.createdAt.get(ticketId);
    if (first && created !== undefined)
      this.kpis.firstContact.observe({ queue }, (this.clock() - created) / 1000);
    this.kpis.queueUtilisation.set({ queue }, (open + 1) / agents);
    return ok({ assignmentId, ticketId, queue, agent: `${queue}-agent-${(open % agents) + 1}` }, 201);
  }

  private unassign(assignmentId: string): SimulatedResponse {
    const assignment = this.assignments.get(assignmentId);
    if (!assignment) return ok({ assignmentId, unassigned: false });
    this.assignments.delete(assignmentId);
    const agents = this.agents[assignment.queue] ?? 1;
    this.kpis.queueUtilisation.set(
      { queue: assignment.queue },
      this.openAssignments(assignment.queue) / agents,
    );
    return ok({ assignmentId, unassigned: true });
  }
}
