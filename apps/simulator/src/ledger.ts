import { identityOf, type PulseEvent } from '@pulse/contracts';
import type { Emission } from './traffic-model.js';

// The expected totals of a run, computed the plain way from the events actually handed out, and
// independently of any projector: if the read models disagree with the ledger, the read models are
// wrong. Amounts are summed per currency because EUR and GBP do not add up.

export interface SalesTotals {
  orders: number;
  /** Sum of `totalMinor` (after discount). */
  revenueMinor: number;
  /** Sum of the line items' quantities. */
  units: number;
}

export interface ItemTotals {
  /** Sum of quantity x unitPriceMinor of the line items (before any order discount). */
  revenueMinor: number;
  units: number;
}

/** Counts keyed by a name; amounts keyed by currency. */
export type Counts = Record<string, number>;

export interface MinuteTotals {
  events: number;
  orders: number;
  revenueMinor: Counts;
  units: number;
  paymentsSucceeded: number;
  paymentsFailed: number;
  checkoutsStarted: number;
  checkoutsFailed: number;
  sessions: number;
  pageViews: number;
  productViews: number;
  cartAdds: number;
  searches: number;
}

export interface LedgerSnapshot {
  /** Unique valid events (by source + id). */
  events: number;
  byType: Counts;
  orders: {
    count: number;
    units: number;
    byCurrency: Record<string, SalesTotals>;
    /** channel -> currency -> totals; likewise by country and payment method. */
    byChannel: Record<string, Record<string, SalesTotals>>;
    byCountry: Record<string, Record<string, SalesTotals>>;
    byPaymentMethod: Record<string, Record<string, SalesTotals>>;
    byDataversion: Counts;
    discountMinor: Counts;
  };
  items: {
    /** category -> currency -> totals. */
    byCategory: Record<string, Record<string, ItemTotals>>;
    unitsBySku: Counts;
  };
  payments: { succeeded: number; succeededMinor: Counts; failed: number; failedMinor: Counts; failedByReason: Counts };
  checkouts: { started: number; startedValueMinor: Counts; failed: number; failedByStep: Counts; failedByErrorCode: Counts };
  cancellations: { count: number; amountMinor: Counts; byReason: Counts };
  refunds: { count: number; amountMinor: Counts; byReason: Counts };
  clickstream: { sessions: number; pageViews: number; productViews: number; cartAdds: number; cartAddedUnits: number; cartRemoves: number; searches: number; zeroResultSearches: number };
  stock: {
    /** Available to sell per `sku/warehouse`: the latest level report plus every delta strictly after it. */
    available: Counts;
    /** Units over the whole run, whatever the reports said. */
    receivedUnits: number;
    reservedUnits: number;
    releasedUnits: number;
    adjustedUnits: number;
  };
  /** Keyed by the UTC minute the events happened in (event time), e.g. `2026-11-28T10:01:00.000Z`. */
  minutes: Record<string, MinuteTotals>;
}

interface StockLine {
  /** Event time of the latest level report, -Infinity before the first. */
  reportedAtMs: number;
  reported: number;
  /** Deltas with an event time strictly after the latest report: the only ones that still count. */
  deltas: Array<{ atMs: number; delta: number }>;
}

function add(counts: Counts, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

function sales(table: Record<string, Record<string, SalesTotals>>, key: string, currency: string, total: number, units: number): void {
  const row = (table[key] ??= {});
  const s = (row[currency] ??= { orders: 0, revenueMinor: 0, units: 0 });
  s.orders += 1;
  s.revenueMinor += total;
  s.units += units;
}

function emptyMinute(): MinuteTotals {
  return { events: 0, orders: 0, revenueMinor: {}, units: 0, paymentsSucceeded: 0, paymentsFailed: 0, checkoutsStarted: 0, checkoutsFailed: 0, sessions: 0, pageViews: 0, productViews: 0, cartAdds: 0, searches: 0 };
}

export class Ledger {
  private readonly seen = new Set<string>();
  private readonly totals: Omit<LedgerSnapshot, 'stock' | 'minutes'> = {
    events: 0,
    byType: {},
    orders: { count: 0, units: 0, byCurrency: {}, byChannel: {}, byCountry: {}, byPaymentMethod: {}, byDataversion: {}, discountMinor: {} },
    items: { byCategory: {}, unitsBySku: {} },
    payments: { succeeded: 0, succeededMinor: {}, failed: 0, failedMinor: {}, failedByReason: {} },
    checkouts: { started: 0, startedValueMinor: {}, failed: 0, failedByStep: {}, failedByErrorCode: {} },
    cancellations: { count: 0, amountMinor: {}, byReason: {} },
    refunds: { count: 0, amountMinor: {}, byReason: {} },
    clickstream: { sessions: 0, pageViews: 0, productViews: 0, cartAdds: 0, cartAddedUnits: 0, cartRemoves: 0, searches: 0, zeroResultSearches: 0 },
  };
  private readonly units = { receivedUnits: 0, reservedUnits: 0, releasedUnits: 0, adjustedUnits: 0 };
  private readonly stock = new Map<string, StockLine>();
  private readonly minutes = new Map<number, MinuteTotals>();
  private lastTime = '';
  private lastMs = NaN;

  /** Unique events counted. */
  get size(): number {
    return this.seen.size;
  }

  has(event: { source: string; id: string }): boolean {
    return this.seen.has(identityOf(event));
  }

  /** Every identity counted, as `identityOf` from the contracts spells it. */
  identities(): IterableIterator<string> {
    return this.seen.values();
  }

  /** Counts the valid and duplicate emissions (each identity once) and ignores the malformed ones. */
  addEmissions(emissions: Iterable<Emission>): void {
    for (const e of emissions) if (e.kind !== 'malformed') this.add(e.event);
  }

  /** Counts one valid event; false when its identity (source + id) was counted already. */
  add(event: PulseEvent): boolean {
    const identity = identityOf(event);
    if (this.seen.has(identity)) return false;
    this.seen.add(identity);
    const t = this.totals;
    t.events += 1;
    add(t.byType, event.type);
    // Events of one batch mostly share their time string: parse it once.
    if (event.time !== this.lastTime) {
      this.lastTime = event.time;
      this.lastMs = Date.parse(event.time);
    }
    const atMs = this.lastMs;
    const minuteKey = Math.floor(atMs / 60_000);
    let minute = this.minutes.get(minuteKey);
    if (!minute) this.minutes.set(minuteKey, (minute = emptyMinute()));
    minute.events += 1;

    switch (event.type) {
      case 'order.placed': {
        const d = event.data;
        let units = 0;
        for (const item of d.items) {
          units += item.quantity;
          const category = (t.items.byCategory[item.category] ??= {});
          const c = (category[d.currency] ??= { revenueMinor: 0, units: 0 });
          c.revenueMinor += item.quantity * item.unitPriceMinor;
          c.units += item.quantity;
          add(t.items.unitsBySku, item.sku, item.quantity);
        }
        t.orders.count += 1;
        t.orders.units += units;
        const byCurrency = (t.orders.byCurrency[d.currency] ??= { orders: 0, revenueMinor: 0, units: 0 });
        byCurrency.orders += 1;
        byCurrency.revenueMinor += d.totalMinor;
        byCurrency.units += units;
        sales(t.orders.byChannel, d.channel, d.currency, d.totalMinor, units);
        sales(t.orders.byCountry, d.country, d.currency, d.totalMinor, units);
        sales(t.orders.byPaymentMethod, d.paymentMethod, d.currency, d.totalMinor, units);
        add(t.orders.byDataversion, String(event.dataversion));
        if (d.discountMinor) add(t.orders.discountMinor, d.currency, d.discountMinor);
        minute.orders += 1;
        minute.units += units;
        add(minute.revenueMinor, d.currency, d.totalMinor);
        break;
      }
      case 'order.paid':
        t.payments.succeeded += 1;
        add(t.payments.succeededMinor, event.data.currency, event.data.amountMinor);
        minute.paymentsSucceeded += 1;
        break;
      case 'order.payment_failed':
        t.payments.failed += 1;
        add(t.payments.failedMinor, event.data.currency, event.data.amountMinor);
        add(t.payments.failedByReason, event.data.reason);
        minute.paymentsFailed += 1;
        break;
      case 'order.cancelled':
        t.cancellations.count += 1;
        add(t.cancellations.amountMinor, event.data.currency, event.data.totalMinor);
        add(t.cancellations.byReason, event.data.reason);
        break;
      case 'order.refunded':
        t.refunds.count += 1;
        add(t.refunds.amountMinor, event.data.currency, event.data.amountMinor);
        add(t.refunds.byReason, event.data.reason);
        break;
      case 'checkout.started':
        t.checkouts.started += 1;
        add(t.checkouts.startedValueMinor, event.data.currency, event.data.valueMinor);
        minute.checkoutsStarted += 1;
        break;
      case 'checkout.failed':
        t.checkouts.failed += 1;
        add(t.checkouts.failedByStep, event.data.step);
        add(t.checkouts.failedByErrorCode, event.data.errorCode);
        minute.checkoutsFailed += 1;
        break;
      case 'session.started':
        t.clickstream.sessions += 1;
        minute.sessions += 1;
        break;
      case 'page.viewed':
        t.clickstream.pageViews += 1;
        minute.pageViews += 1;
        break;
      case 'product.viewed':
        t.clickstream.productViews += 1;
        minute.productViews += 1;
        break;
      case 'cart.item_added':
        t.clickstream.cartAdds += 1;
        t.clickstream.cartAddedUnits += event.data.quantity;
        minute.cartAdds += 1;
        break;
      case 'cart.item_removed':
        t.clickstream.cartRemoves += 1;
        break;
      case 'search.performed':
        t.clickstream.searches += 1;
        if (event.data.resultCount === 0) t.clickstream.zeroResultSearches += 1;
        minute.searches += 1;
        break;
      case 'stock.level_reported':
        this.report(event.data.sku, event.data.warehouse, atMs, event.data.available);
        break;
      case 'stock.received':
        this.units.receivedUnits += event.data.quantity;
        this.delta(event.data.sku, event.data.warehouse, atMs, event.data.quantity);
        break;
      case 'stock.released':
        this.units.releasedUnits += event.data.quantity;
        this.delta(event.data.sku, event.data.warehouse, atMs, event.data.quantity);
        break;
      case 'stock.reserved':
        this.units.reservedUnits += event.data.quantity;
        this.delta(event.data.sku, event.data.warehouse, atMs, -event.data.quantity);
        break;
      case 'stock.adjusted':
        this.units.adjustedUnits += event.data.delta;
        this.delta(event.data.sku, event.data.warehouse, atMs, event.data.delta);
        break;
    }
    return true;
  }

  private line(sku: string, warehouse: string): StockLine {
    const key = `${sku}/${warehouse}`;
    let line = this.stock.get(key);
    if (!line) this.stock.set(key, (line = { reportedAtMs: -Infinity, reported: 0, deltas: [] }));
    return line;
  }

  private report(sku: string, warehouse: string, atMs: number, available: number): void {
    const line = this.line(sku, warehouse);
    // A report older than the one we have says nothing about now (it arrived late).
    if (atMs < line.reportedAtMs) return;
    line.reportedAtMs = atMs;
    line.reported = available;
    line.deltas = line.deltas.filter((d) => d.atMs > atMs);
  }

  private delta(sku: string, warehouse: string, atMs: number, delta: number): void {
    const line = this.line(sku, warehouse);
    // Already contained in the latest report.
    if (atMs <= line.reportedAtMs) return;
    line.deltas.push({ atMs, delta });
  }

  /** Available stock per `sku/warehouse` as the events delivered so far state it. */
  availableStock(): Counts {
    const available: Counts = {};
    for (const [key, line] of this.stock) {
      let level = line.reported;
      for (const d of line.deltas) level += d.delta;
      available[key] = level;
    }
    return available;
  }

  toJSON(): LedgerSnapshot {
    const minutes: Record<string, MinuteTotals> = {};
    for (const key of [...this.minutes.keys()].sort((a, b) => a - b)) minutes[new Date(key * 60_000).toISOString()] = this.minutes.get(key) as MinuteTotals;
    return structuredClone({ ...this.totals, stock: { available: this.availableStock(), ...this.units }, minutes });
  }
}
