import type { CloudEventOf, EventDataMap, EventType, PulseEvent } from '@pulse/contracts';
import { buildCatalogue, currencies, currencyIndex, defaultWarehouses, marketDistribution, type Catalogue, type Market } from './catalogue.js';
import { DueQueue } from './due-queue.js';
import type { Incident } from './incidents.js';
import { malformedEvent, type MalformedEvent } from './malformed-events.js';
import { Random, Weighted } from './random.js';

/**
 * One event handed out by the model. `valid` is its first delivery (held back first when `late`);
 * `duplicate` is the very same object delivered again; `malformed` breaks the contracts on purpose.
 */
export type Emission =
  | { kind: 'valid'; event: PulseEvent; late: boolean }
  | { kind: 'duplicate'; event: PulseEvent; late: false }
  | { kind: 'malformed'; event: MalformedEvent; late: false };

export type EmissionKind = Emission['kind'];

export interface TrafficOptions {
  seed: number;
  /** Simulated time the shop opens, epoch ms: the first stock levels are reported at this time. */
  startMs: number;
  /** CloudEvents `source`; default `simulator/<seed>`. With `id` it is each event's identity. */
  source?: string;
  /** Share of events held back and delivered later, their `time` unchanged. */
  late?: number;
  lateMinMs?: number;
  lateMaxMs?: number;
  /** Share of positions in a tick swapped with another position of the same tick. */
  outOfOrder?: number;
  /** Share of emissions that re-deliver an earlier event, the same object. */
  duplicate?: number;
  /** Share of emissions that are invalid events, on top of the valid traffic. */
  malformed?: number;
  incidents?: readonly Incident[];
  /** Number of products in the catalogue. */
  products?: number;
  warehouses?: readonly string[];
  /** Interval of the stock level snapshots, simulated ms. */
  stockReportEveryMs?: number;
  /** Sessions browsing at the same time; more spreads each session's events over a longer time. */
  concurrentSessions?: number;
  /** Events per second the shop is stocked for (default 500): opening stock and purchases scale with it. */
  expectedRate?: number;
}

interface CartLine {
  product: number;
  quantity: number;
}

interface Session {
  id: string;
  visitorId: string;
  customerId: string;
  market: Market;
  currency: number;
  channel: Channel;
  cart: CartLine[];
  browseLeft: number;
  /** The product on screen, which an add-to-cart refers to; -1 when none. */
  lastProduct: number;
  checkingOut: boolean;
}

interface OrderLine {
  product: number;
  quantity: number;
}

interface Order {
  id: string;
  currency: string;
  paymentMethod: PaymentMethod;
  totalMinor: number;
  warehouse: number;
  lines: OrderLine[];
  prices: number[];
}

type FollowUp =
  | { due: number; kind: 'payment' | 'cancellation' | 'refund'; order: Order }
  | { due: number; kind: 'restock'; product: number; warehouse: number };

type Channel = EventDataMap['session.started']['channel'];
type Device = EventDataMap['session.started']['device'];
type PaymentMethod = EventDataMap['order.placed']['paymentMethod'];
type PaymentFailure = EventDataMap['order.payment_failed']['reason'];
type CheckoutStep = EventDataMap['checkout.failed']['step'];

const channels = new Weighted<Channel>([['web', 55], ['app', 28], ['marketplace', 12], ['store', 5]]);
const devices: Record<Channel, Weighted<Device>> = {
  web: new Weighted<Device>([['desktop', 45], ['mobile', 45], ['tablet', 10]]),
  app: new Weighted<Device>([['mobile', 85], ['tablet', 15]]),
  marketplace: new Weighted<Device>([['desktop', 50], ['mobile', 50]]),
  store: new Weighted<Device>([['tablet', 1]]),
};
const paymentMethods = new Weighted<PaymentMethod>([
  ['card', 40], ['paypal', 25], ['klarna', 10], ['apple_pay', 10], ['google_pay', 8], ['bank_transfer', 5], ['cash_on_delivery', 2],
]);
const paymentFailures = new Weighted<PaymentFailure>([
  ['card_declined', 40], ['insufficient_funds', 20], ['authentication_failed', 15], ['expired_card', 10], ['timeout', 8], ['processor_error', 5], ['fraud_suspected', 2],
]);
const incidentPaymentFailures: readonly PaymentFailure[] = ['fraud_suspected', 'processor_error'];
const refundReasons = new Weighted<EventDataMap['order.refunded']['reason']>([['returned', 50], ['goodwill', 20], ['damaged', 15], ['not_delivered', 10], ['other', 5]]);
const cancellationReasons = new Weighted<EventDataMap['order.cancelled']['reason']>([['customer_request', 70], ['other', 20], ['fraud', 10]]);
const referrers = ['https://www.google.com/', 'https://www.instagram.com/', 'https://www.bing.com/', 'https://newsletter.example.com/spring'];
const queries = ['sneakers', 'running shoes', 'linen shirt', 'summer dress', 'rain jacket', 'backpack', 'headphones', 'yoga mat', 'lipstick', 'lego', 'desk lamp', 'wool scarf', 'chelsea boots', 'phone case'];
const fruitlessQueries = ['sneekers', 'iphnoe case', 'gift card', 'xmas jumper', 'snowboard'];
const coupons = [['SPRING-10', 10], ['WELCOME-15', 15], ['VIP-20', 20], ['FREESHIP-5', 5]] as const;

/** Checkout steps after the cart check, each with its baseline failure rate and error codes. */
const checkoutSteps: ReadonlyArray<{ step: CheckoutStep; failure: number; codes: readonly string[] }> = [
  { step: 'address', failure: 0.02, codes: ['invalid_postcode', 'address_not_found'] },
  { step: 'shipping', failure: 0.01, codes: ['no_shipping_option', 'shipping_quote_timeout'] },
  { step: 'payment', failure: 0.05, codes: ['card_declined', '3ds_failed', 'payment_provider_timeout'] },
  { step: 'review', failure: 0.01, codes: ['price_changed', 'session_expired'] },
];
/** Share of checkouts failing at the payment step during a checkout_regression. */
const REGRESSION_PAYMENT_FAILURE = 0.4;
const BASELINE_PAYMENT_DECLINE = 0.04;
/** Extra share of payments failing during a payment_failures incident. */
const INCIDENT_PAYMENT_DECLINE = 0.5;
const NEW_SESSION_SHARE = 0.1;
/** Share of sessions with a cart that go to checkout, per line in the cart: a fuller cart is more intent. */
const CHECKOUT_SHARE_PER_LINE = 0.15;
const ZERO_RESULT_SHARE = 0.08;
const ORDER_V2_SHARE = 0.9;
const ADJUSTMENT_SHARE = 0.002;
const DUPLICATE_MEMORY = 4096;
const RESTOCK_LEAD_MIN_MS = 15_000;
const RESTOCK_LEAD_MAX_MS = 90_000;
/** A restock covers this much of the recent demand. */
const RESTOCK_COVER_MS = 5 * 60_000;

function fraction(name: string, value: number | undefined): number {
  const v = value ?? 0;
  if (!(v >= 0 && v < 1)) throw new Error(`${name} must be a fraction in [0, 1), got ${value}`);
  return v;
}

interface ActiveIncident {
  incident: Incident;
  product: number;
  started: boolean;
}

/**
 * A pure, deterministic model of a shop's traffic. Time comes in with each tick and every choice is
 * drawn from one seeded PRNG, so a seed and a sequence of ticks always yield the same events.
 *
 * Event times never go backwards in the order facts are generated, and the model applies stock
 * changes in that order. That is what keeps each stock.level_reported equal to the reported level
 * plus every delta strictly after it, the arithmetic the ledger (and any projection) relies on.
 */
export class TrafficModel {
  readonly seed: number;
  readonly source: string;
  readonly catalogue: Catalogue;
  readonly warehouses: readonly string[];

  private readonly random: Random;
  private readonly lateShare: number;
  private readonly lateMinMs: number;
  private readonly lateMaxMs: number;
  private readonly outOfOrderShare: number;
  private readonly duplicateShare: number;
  private readonly malformedShare: number;
  private readonly reportEveryMs: number;
  private readonly maxSessions: number;

  private counter = 0;
  private sessionCount = 0;
  private visitorCount = 0;
  private orderCount = 0;
  private refundCount = 0;
  private purchaseOrderCount = 0;

  /** End of the last tick: the next tick's facts happen after it. */
  private clock: number;
  /** No fact may happen before this; it moves past each stock snapshot so that no delta shares its millisecond. */
  private floorMs = -Infinity;
  private nextReportMs: number;

  private readonly pending: PulseEvent[] = [];
  private pendingHead = 0;
  private readonly sessions: Session[] = [];
  private readonly followUps = new DueQueue<FollowUp>();
  private readonly held = new DueQueue<{ due: number; event: PulseEvent }>();
  private readonly recent: PulseEvent[] = [];
  private recentNext = 0;

  /** Available to sell per product x warehouse, at index `product * warehouses + warehouse`. */
  private readonly available: number[];
  private readonly restockPending: Uint8Array;
  /** Units reserved per product x warehouse since the last report, and in the interval before it. */
  private readonly demand: number[];
  private readonly lastDemand: number[];
  private lastReportMs: number;
  private readonly stockScale: number;

  private readonly incidents: ActiveIncident[];
  private nextIncidentChangeMs = -Infinity;
  private checkoutRegression = false;
  private paymentIncident = false;
  private readonly stockedOut: Uint8Array;

  private isoMs = NaN;
  private iso = '';

  constructor(options: TrafficOptions) {
    if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff) throw new Error(`seed must be an integer 0..2^32-1, got ${options.seed}`);
    if (!Number.isFinite(options.startMs)) throw new Error('startMs must be an epoch time in ms');
    this.seed = options.seed;
    this.source = options.source ?? `simulator/${options.seed}`;
    if (!/^\S{1,256}$/.test(this.source)) throw new Error(`source "${this.source}" must be 1..256 characters without spaces`);
    this.random = new Random(options.seed);
    this.lateShare = fraction('late', options.late);
    this.outOfOrderShare = fraction('outOfOrder', options.outOfOrder);
    this.duplicateShare = fraction('duplicate', options.duplicate);
    this.malformedShare = fraction('malformed', options.malformed);
    if (this.duplicateShare + this.malformedShare >= 0.5) throw new Error('duplicate + malformed must leave most of the traffic valid (< 0.5)');
    this.lateMinMs = options.lateMinMs ?? 2_000;
    this.lateMaxMs = options.lateMaxMs ?? 2 * 3600_000;
    if (!(this.lateMinMs >= 1 && this.lateMaxMs >= this.lateMinMs)) throw new Error(`late delays must satisfy 1 <= lateMinMs <= lateMaxMs, got ${this.lateMinMs}..${this.lateMaxMs}`);
    this.reportEveryMs = options.stockReportEveryMs ?? 60_000;
    if (!(this.reportEveryMs >= 1000)) throw new Error('stockReportEveryMs must be at least 1000');
    this.stockScale = Math.max(1, (options.expectedRate ?? 500) / 500);
    if (!Number.isFinite(this.stockScale)) throw new Error('expectedRate must be a number of events per second');
    this.maxSessions = options.concurrentSessions ?? 2000;
    if (!(this.maxSessions >= 1)) throw new Error('concurrentSessions must be at least 1');

    this.catalogue = buildCatalogue(options.products ?? 120);
    this.warehouses = options.warehouses ?? defaultWarehouses;
    if (this.warehouses.length < 1 || this.warehouses.some((w) => !/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(w))) throw new Error(`invalid warehouse codes: ${this.warehouses.join(', ')}`);
    const products = this.catalogue.products;
    const keys = products.length * this.warehouses.length;
    this.available = new Array<number>(keys);
    this.restockPending = new Uint8Array(keys);
    this.demand = new Array<number>(keys).fill(0);
    this.lastDemand = new Array<number>(keys).fill(0);
    this.stockedOut = new Uint8Array(products.length);

    let stockout = 0;
    this.incidents = [...(options.incidents ?? [])]
      .sort((a, b) => a.fromMs - b.fromMs)
      .map((incident) => {
        if (!(incident.toMs > incident.fromMs)) throw new Error(`incident ${incident.kind} ends before it starts`);
        let product = -1;
        if (incident.kind === 'stockout') {
          product = incident.sku === undefined ? stockout++ % 3 : products.findIndex((p) => p.sku === incident.sku);
          if (product < 0) throw new Error(`stockout SKU ${incident.sku} is not in the catalogue`);
        }
        return { incident, product, started: false };
      });

    this.clock = options.startMs;
    this.lastReportMs = options.startMs;
    for (let p = 0; p < products.length; p++) {
      for (let w = 0; w < this.warehouses.length; w++) {
        const level = Math.ceil((products[p].restockQuantity + this.random.int(0, products[p].restockQuantity)) * this.stockScale);
        this.available[p * this.warehouses.length + w] = level;
      }
    }
    this.report(options.startMs);
    this.nextReportMs = options.startMs + this.reportEveryMs;
  }

  /**
   * The next `count` emissions, for facts happening between the previous tick and `nowMs`. Late events
   * that have fallen due come first, then new traffic; with `outOfOrder` the tick is shuffled a little.
   */
  tick(nowMs: number, count: number): Emission[] {
    const from = this.clock;
    const to = Math.max(nowMs, from);
    this.clock = to;
    const out: Emission[] = [];
    while (out.length < count && this.held.nextDue() <= to) {
      out.push({ kind: 'valid', event: (this.held.pop() as { event: PulseEvent }).event, late: true });
    }
    const span = to - from;
    const r = this.random;
    while (out.length < count) {
      const t = Math.max(from + Math.floor((out.length * span) / count), this.floorMs);
      const draw = r.next();
      if (draw < this.malformedShare) {
        const session = this.sessions.length ? r.pick(this.sessions).id : `${this.seed}-s0`;
        out.push({ kind: 'malformed', event: malformedEvent(r, this.nextId(), this.source, this.isoOf(t), session), late: false });
      } else if (draw < this.malformedShare + this.duplicateShare && this.recent.length > 0) {
        out.push({ kind: 'duplicate', event: r.pick(this.recent), late: false });
      } else {
        const event = this.nextFact(t);
        // Held from this slot's time, at or after the fact's own, so it arrives at least lateMinMs after it happened.
        if (r.chance(this.lateShare)) this.held.push({ due: t + r.logUniform(this.lateMinMs, this.lateMaxMs), event });
        else out.push({ kind: 'valid', event, late: false });
      }
    }
    if (this.outOfOrderShare > 0) {
      for (let i = 0; i < out.length; i++) {
        if (!r.chance(this.outOfOrderShare)) continue;
        const j = Math.floor(r.next() * out.length);
        const swap = out[i];
        out[i] = out[j];
        out[j] = swap;
      }
    }
    // Remembered only after the tick, so a duplicate always follows the delivery it copies.
    this.remember(out);
    return out;
  }

  /** Every fact already generated but not yet handed out, and every late event still held back. */
  flush(): Emission[] {
    const out: Emission[] = [];
    for (let i = this.pendingHead; i < this.pending.length; i++) out.push({ kind: 'valid', event: this.pending[i], late: false });
    this.pending.length = 0;
    this.pendingHead = 0;
    for (const { event } of this.held.drain()) out.push({ kind: 'valid', event, late: true });
    this.remember(out);
    return out;
  }

  /** Late events still held back. */
  get heldBack(): number {
    return this.held.size;
  }

  /** The model's own stock bookkeeping, keyed `sku/warehouse`: what the ledger must arrive at after a flush. */
  stockLevels(): Record<string, number> {
    const levels: Record<string, number> = {};
    const products = this.catalogue.products;
    for (let p = 0; p < products.length; p++) {
      for (let w = 0; w < this.warehouses.length; w++) levels[`${products[p].sku}/${this.warehouses[w]}`] = this.available[p * this.warehouses.length + w];
    }
    return levels;
  }

  private remember(out: readonly Emission[]): void {
    for (const e of out) {
      if (e.kind !== 'valid') continue;
      if (this.recent.length < DUPLICATE_MEMORY) this.recent.push(e.event);
      else this.recent[this.recentNext] = e.event;
      this.recentNext = (this.recentNext + 1) % DUPLICATE_MEMORY;
    }
  }

  private nextId(): string {
    return `${this.seed}-${++this.counter}`;
  }

  private isoOf(ms: number): string {
    // Many events share a millisecond at high rates; formatting a date is the costliest part of an event.
    if (ms !== this.isoMs) {
      this.isoMs = ms;
      this.iso = new Date(ms).toISOString();
    }
    return this.iso;
  }

  private emit<T extends EventType>(type: T, t: number, data: EventDataMap[T], dataversion = 1): void {
    const event: CloudEventOf<T> = { specversion: '1.0', id: this.nextId(), source: this.source, type, time: this.isoOf(t), dataversion, data };
    this.pending.push(event as PulseEvent);
  }

  /** The next fact at time `t`: from facts already generated, or from whatever happens next in the shop. */
  private nextFact(t: number): PulseEvent {
    while (this.pendingHead >= this.pending.length) {
      this.pending.length = 0;
      this.pendingHead = 0;
      if (t >= this.nextIncidentChangeMs) this.updateIncidents(t);
      if (t >= this.nextReportMs) {
        this.report(t);
        while (this.nextReportMs <= t) this.nextReportMs += this.reportEveryMs;
      } else if (this.followUps.nextDue() <= t) this.followUp(this.followUps.pop() as FollowUp, t);
      else if (this.random.chance(ADJUSTMENT_SHARE)) this.adjustStock(t);
      else this.advanceSessions(t);
    }
    return this.pending[this.pendingHead++];
  }

  private updateIncidents(t: number): void {
    this.checkoutRegression = false;
    this.paymentIncident = false;
    this.stockedOut.fill(0);
    let next = Infinity;
    for (const active of this.incidents) {
      const { incident } = active;
      if (incident.fromMs > t) next = Math.min(next, incident.fromMs);
      else if (incident.toMs > t) {
        next = Math.min(next, incident.toMs);
        if (incident.kind === 'checkout_regression') this.checkoutRegression = true;
        else if (incident.kind === 'payment_failures') this.paymentIncident = true;
        else {
          this.stockedOut[active.product] = 1;
          if (!active.started) this.drain(active.product, t);
        }
        active.started = true;
      }
    }
    this.nextIncidentChangeMs = next;
  }

  /** A recount finds nothing left of the product anywhere: the start of a stockout. */
  private drain(product: number, t: number): void {
    for (let w = 0; w < this.warehouses.length; w++) {
      const level = this.available[product * this.warehouses.length + w];
      if (level > 0) this.adjust(product, w, -level, 'count_correction', t);
    }
  }

  private report(t: number): void {
    const products = this.catalogue.products;
    for (let p = 0; p < products.length; p++) {
      for (let w = 0; w < this.warehouses.length; w++) {
        const key = p * this.warehouses.length + w;
        this.lastDemand[key] = this.demand[key];
        this.demand[key] = 0;
        this.emit('stock.level_reported', t, { sku: products[p].sku, warehouse: this.warehouses[w], available: this.available[key], reorderPoint: this.reorderPoint(key, t) });
        this.restockIfLow(p, w, t);
      }
    }
    // A delta in the same millisecond as the report would be ambiguous: before or after it?
    this.floorMs = t + 1;
    this.lastReportMs = t;
  }

  /** Units reserved per ms lately: the last full report interval, or the current one once it says more. */
  private demandPerMs(key: number, t: number): number {
    return Math.max(this.lastDemand[key] / this.reportEveryMs, this.demand[key] / Math.max(t - this.lastReportMs, 5_000));
  }

  /** Enough to cover the demand during the longest restock lead time: the shop reorders by recent demand. */
  private reorderPoint(key: number, t: number): number {
    const product = this.catalogue.products[Math.floor(key / this.warehouses.length)];
    return Math.ceil(product.reorderPoint * this.stockScale + this.demandPerMs(key, t) * RESTOCK_LEAD_MAX_MS);
  }

  private restockIfLow(product: number, warehouse: number, t: number): void {
    const key = product * this.warehouses.length + warehouse;
    if (this.restockPending[key] || this.stockedOut[product] || this.available[key] >= this.reorderPoint(key, t)) return;
    this.restockPending[key] = 1;
    this.followUps.push({ due: t + this.random.int(RESTOCK_LEAD_MIN_MS, RESTOCK_LEAD_MAX_MS), kind: 'restock', product, warehouse });
  }

  private adjust(product: number, warehouse: number, delta: number, reason: EventDataMap['stock.adjusted']['reason'], t: number): void {
    this.available[product * this.warehouses.length + warehouse] += delta;
    this.emit('stock.adjusted', t, { sku: this.catalogue.products[product].sku, warehouse: this.warehouses[warehouse], delta, reason });
  }

  /** Damage, shrinkage and recounts: small corrections that no order explains. */
  private adjustStock(t: number): void {
    const r = this.random;
    const product = r.int(0, this.catalogue.products.length - 1);
    // A stocked-out product stays at zero until the incident ends.
    if (this.stockedOut[product]) return;
    const warehouse = r.int(0, this.warehouses.length - 1);
    const level = this.available[product * this.warehouses.length + warehouse];
    const draw = r.next();
    if (draw < 0.35 && level >= 2) this.adjust(product, warehouse, -r.int(1, 2), 'damaged', t);
    else if (draw < 0.6 && level >= 1) this.adjust(product, warehouse, -1, 'shrinkage', t);
    else if (draw < 0.8 && level >= 5) this.adjust(product, warehouse, -r.int(1, 5), 'count_correction', t);
    else this.adjust(product, warehouse, r.int(1, 5), draw < 0.9 ? 'count_correction' : 'transfer', t);
  }

  private advanceSessions(t: number): void {
    const active = this.sessions;
    const r = this.random;
    if (active.length < Math.min(20, this.maxSessions) || (active.length < this.maxSessions && r.chance(NEW_SESSION_SHARE))) {
      this.startSession(t);
      return;
    }
    const i = Math.floor(r.next() * active.length);
    if (this.step(active[i], t)) return;
    // The session ended: swap-remove keeps this O(1).
    active[i] = active[active.length - 1];
    active.pop();
  }

  private startSession(t: number): void {
    const r = this.random;
    const market = marketDistribution.draw(r);
    const channel = channels.draw(r);
    const visitor = this.visitorCount > 0 && r.chance(0.3) ? r.int(1, this.visitorCount) : ++this.visitorCount;
    const session: Session = {
      id: `${this.seed}-s${++this.sessionCount}`,
      visitorId: `${this.seed}-v${visitor}`,
      customerId: `${this.seed}-c${visitor}`,
      market,
      currency: currencyIndex(market.currency),
      channel,
      cart: [],
      browseLeft: r.int(2, 16),
      lastProduct: -1,
      checkingOut: false,
    };
    this.sessions.push(session);
    const started: EventDataMap['session.started'] = { sessionId: session.id, visitorId: session.visitorId, channel, country: market.country, device: devices[channel].draw(r) };
    if (r.chance(0.4)) started.referrer = r.pick(referrers);
    this.emit('session.started', t, started);
    const landing = r.next();
    if (landing < 0.6) this.emit('page.viewed', t, { sessionId: session.id, path: '/', pageType: 'home' });
    else if (landing < 0.85) this.emit('page.viewed', t, { sessionId: session.id, path: `/c/${this.popularProduct().category}`, pageType: 'category' });
    else this.viewProduct(session, t);
  }

  private popularProduct() {
    return this.catalogue.products[this.catalogue.popularity.draw(this.random)];
  }

  private viewProduct(session: Session, t: number): void {
    const product = this.catalogue.popularity.draw(this.random);
    const p = this.catalogue.products[product];
    session.lastProduct = product;
    this.emit('product.viewed', t, { sessionId: session.id, sku: p.sku, category: p.category, priceMinor: p.prices[session.currency], currency: currencies[session.currency] });
  }

  /** One step of a session; false when the session is over. */
  private step(s: Session, t: number): boolean {
    if (s.checkingOut) {
      this.checkout(s, t);
      return false;
    }
    if (s.browseLeft > 0) {
      s.browseLeft--;
      this.browse(s, t);
      return true;
    }
    if (!s.cart.length || !this.random.chance(Math.min(0.85, 0.2 + CHECKOUT_SHARE_PER_LINE * s.cart.length))) return false;
    s.checkingOut = true;
    let items = 0;
    let value = 0;
    for (const line of s.cart) {
      items += line.quantity;
      value += line.quantity * this.catalogue.products[line.product].prices[s.currency];
    }
    this.emit('checkout.started', t, { sessionId: s.id, cartId: `${s.id}-cart`, itemCount: items, valueMinor: value, currency: currencies[s.currency] });
    return true;
  }

  private browse(s: Session, t: number): void {
    const r = this.random;
    const draw = r.next();
    if (draw < 0.22) {
      this.emit('page.viewed', t, { sessionId: s.id, path: `/c/${this.popularProduct().category}`, pageType: 'category' });
    } else if (draw < 0.62 || (draw < 0.9 && s.lastProduct < 0)) {
      this.viewProduct(s, t);
    } else if (draw < 0.72) {
      const fruitless = r.chance(ZERO_RESULT_SHARE);
      this.emit('search.performed', t, { sessionId: s.id, query: r.pick(fruitless ? fruitlessQueries : queries), resultCount: fruitless ? 0 : r.int(1, 240) });
    } else if (draw < 0.9) {
      const p = this.catalogue.products[s.lastProduct];
      const quantity = r.chance(0.8) ? 1 : r.int(2, 3);
      this.emit('cart.item_added', t, { sessionId: s.id, sku: p.sku, category: p.category, quantity, unitPriceMinor: p.prices[s.currency], currency: currencies[s.currency] });
      const line = s.cart.find((l) => l.product === s.lastProduct);
      if (line) line.quantity += quantity;
      else s.cart.push({ product: s.lastProduct, quantity });
      s.lastProduct = -1;
    } else if (draw < 0.95 && s.cart.length) {
      const index = Math.floor(r.next() * s.cart.length);
      const line = s.cart[index];
      const quantity = r.int(1, line.quantity);
      this.emit('cart.item_removed', t, { sessionId: s.id, sku: this.catalogue.products[line.product].sku, quantity });
      line.quantity -= quantity;
      if (!line.quantity) s.cart.splice(index, 1);
    } else {
      const [path, pageType] = r.pick([['/cart', 'cart'], ['/account', 'account'], ['/help/returns', 'other']] as const);
      this.emit('page.viewed', t, { sessionId: s.id, path, pageType });
    }
  }

  /**
   * The warehouse that can ship most of the cart, starting with the market's own. Lines it cannot
   * ship leave the cart. A stocked-out product is never shipped, even when a cancellation gave a few
   * units back during the incident: it still shows in views and cart adds, never in orders.
   */
  private allocate(s: Session): { warehouse: number; lines: CartLine[]; missing: CartLine[] } {
    const warehouses = this.warehouses.length;
    let best = { warehouse: 0, lines: [] as CartLine[], missing: s.cart };
    for (let i = 0; i < warehouses; i++) {
      const w = (s.market.warehouse + i) % warehouses;
      const lines = s.cart.filter((l) => !this.stockedOut[l.product] && this.available[l.product * warehouses + w] >= l.quantity);
      if (lines.length > best.lines.length) best = { warehouse: w, lines, missing: s.cart.filter((l) => !lines.includes(l)) };
      if (lines.length === s.cart.length) break;
    }
    return best;
  }

  private checkout(s: Session, t: number): void {
    const r = this.random;
    const { warehouse, lines, missing } = this.allocate(s);
    for (const line of missing) this.emit('cart.item_removed', t, { sessionId: s.id, sku: this.catalogue.products[line.product].sku, quantity: line.quantity });
    if (!lines.length) {
      this.emit('checkout.failed', t, { sessionId: s.id, step: 'cart', errorCode: 'out_of_stock' });
      return;
    }
    for (const { step, failure, codes } of checkoutSteps) {
      const regressed = step === 'payment' && this.checkoutRegression;
      if (r.chance(regressed ? REGRESSION_PAYMENT_FAILURE : failure)) {
        this.emit('checkout.failed', t, { sessionId: s.id, step, errorCode: regressed ? r.pick(['payment_provider_error', 'payment_provider_timeout']) : r.pick(codes) });
        return;
      }
    }
    this.placeOrder(s, warehouse, lines, t);
  }

  private placeOrder(s: Session, warehouse: number, lines: CartLine[], t: number): void {
    const r = this.random;
    const products = this.catalogue.products;
    const currency = currencies[s.currency];
    const prices = lines.map((l) => products[l.product].prices[s.currency]);
    const items = lines.map((l, i) => ({ sku: products[l.product].sku, quantity: l.quantity, unitPriceMinor: prices[i], category: products[l.product].category }));
    let subtotal = 0;
    for (const item of items) subtotal += item.quantity * item.unitPriceMinor;
    const v2 = r.chance(ORDER_V2_SHARE);
    const coupon = v2 && r.chance(0.2) ? r.pick(coupons) : undefined;
    const discount = coupon ? Math.floor((subtotal * coupon[1]) / 100) : 0;
    const order: Order = { id: `${this.seed}-o${++this.orderCount}`, currency, paymentMethod: paymentMethods.draw(r), totalMinor: subtotal - discount, warehouse, lines, prices };
    const data: EventDataMap['order.placed'] = { orderId: order.id, customerId: s.customerId, items, totalMinor: order.totalMinor, currency, channel: s.channel, country: s.market.country, paymentMethod: order.paymentMethod };
    if (v2) {
      data.sessionId = s.id;
      if (coupon) {
        data.discountMinor = discount;
        data.couponCode = coupon[0];
      }
    }
    // v1 predates sessionId and discounts: a v1 order carries neither (its schema forbids unknown fields).
    this.emit('order.placed', t, data, v2 ? 2 : 1);
    for (const line of lines) {
      const key = line.product * this.warehouses.length + warehouse;
      this.available[key] -= line.quantity;
      this.demand[key] += line.quantity;
      this.emit('stock.reserved', t, { sku: products[line.product].sku, warehouse: this.warehouses[warehouse], quantity: line.quantity, orderId: order.id });
      this.restockIfLow(line.product, warehouse, t);
    }
    this.followUps.push({ due: t + r.int(500, 5_000), kind: 'payment', order });
  }

  private release(order: Order, t: number): void {
    for (const line of order.lines) {
      this.available[line.product * this.warehouses.length + order.warehouse] += line.quantity;
      this.emit('stock.released', t, { sku: this.catalogue.products[line.product].sku, warehouse: this.warehouses[order.warehouse], quantity: line.quantity, orderId: order.id });
    }
  }

  private followUp(f: FollowUp, t: number): void {
    const r = this.random;
    if (f.kind === 'restock') {
      const key = f.product * this.warehouses.length + f.warehouse;
      this.restockPending[key] = 0;
      // Not restocked during a stockout: that is the incident. The next report after it restocks.
      if (this.stockedOut[f.product]) return;
      const quantity = Math.ceil(Math.max(this.catalogue.products[f.product].restockQuantity * this.stockScale, this.demandPerMs(key, t) * RESTOCK_COVER_MS));
      this.available[key] += quantity;
      this.emit('stock.received', t, { sku: this.catalogue.products[f.product].sku, warehouse: this.warehouses[f.warehouse], quantity, purchaseOrderId: `${this.seed}-po${++this.purchaseOrderCount}` });
      return;
    }
    const { order } = f;
    const money = { orderId: order.id, amountMinor: order.totalMinor, currency: order.currency, paymentMethod: order.paymentMethod };
    if (f.kind === 'payment') {
      let reason: PaymentFailure | undefined;
      if (this.paymentIncident && r.chance(INCIDENT_PAYMENT_DECLINE)) reason = r.pick(incidentPaymentFailures);
      else if (r.chance(BASELINE_PAYMENT_DECLINE)) reason = paymentFailures.draw(r);
      if (reason) {
        this.emit('order.payment_failed', t, { ...money, reason });
        this.release(order, t);
        return;
      }
      this.emit('order.paid', t, money);
      const after = r.next();
      if (after < 0.03) this.followUps.push({ due: t + r.int(20_000, 180_000), kind: 'cancellation', order });
      else if (after < 0.09) this.followUps.push({ due: t + r.int(30_000, 300_000), kind: 'refund', order });
    } else if (f.kind === 'cancellation') {
      this.emit('order.cancelled', t, { orderId: order.id, totalMinor: order.totalMinor, currency: order.currency, reason: cancellationReasons.draw(r) });
      this.release(order, t);
    } else {
      const reason = refundReasons.draw(r);
      const first = order.lines[0];
      const amount = r.chance(0.6) ? order.totalMinor : reason === 'goodwill' ? Math.max(1, Math.floor(order.totalMinor / 10)) : Math.min(order.totalMinor, first.quantity * order.prices[0]);
      this.emit('order.refunded', t, { orderId: order.id, refundId: `${this.seed}-r${++this.refundCount}`, amountMinor: amount, currency: order.currency, reason });
      // Some returned goods go back on the shelf; a stocked-out product stays at zero during the incident.
      if (reason === 'returned' && !this.stockedOut[first.product] && r.chance(0.5)) this.adjust(first.product, order.warehouse, first.quantity, 'customer_return', t);
    }
  }
}
