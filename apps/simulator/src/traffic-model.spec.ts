import { identityOf, validateEvent, type PulseEvent } from '@pulse/contracts';
import { demoIncidents, type Incident } from './incidents.js';
import { Ledger } from './ledger.js';
import { TrafficModel, type Emission, type TrafficOptions } from './traffic-model.js';

const START = Date.parse('2026-11-28T10:00:00.000Z');
const MINUTE = 60_000;

interface Tick {
  fromMs: number;
  nowMs: number;
  emissions: Emission[];
}

/** Runs a model for `seconds` ticks of one simulated second each. */
function run(options: Partial<TrafficOptions>, seconds: number, perSecond: number): { model: TrafficModel; ticks: Tick[] } {
  const model = new TrafficModel({ seed: 42, startMs: START, ...options });
  const ticks: Tick[] = [];
  for (let i = 1; i <= seconds; i++) ticks.push({ fromMs: START + (i - 1) * 1000, nowMs: START + i * 1000, emissions: model.tick(START + i * 1000, perSecond) });
  return { model, ticks };
}

const all = (ticks: Tick[]) => ticks.flatMap((t) => t.emissions);
const ofType = <T extends PulseEvent['type']>(emissions: Emission[], type: T) =>
  emissions.filter((e): e is Extract<Emission, { kind: 'valid' }> => e.kind === 'valid' && e.event.type === type).map((e) => e.event as Extract<PulseEvent, { type: T }>);
const within = (event: PulseEvent, incident: Incident) => Date.parse(event.time) >= incident.fromMs && Date.parse(event.time) < incident.toMs;

const noisy: Partial<TrafficOptions> = { late: 0.05, lateMinMs: 3_000, lateMaxMs: 40_000, duplicate: 0.03, malformed: 0.02, outOfOrder: 0.1 };

describe('the traffic model', () => {
  it('hands out the same events for the same seed and ticks, and others for another seed', () => {
    const a = all(run({ ...noisy, seed: 7 }, 20, 500).ticks);
    const b = all(run({ ...noisy, seed: 7 }, 20, 500).ticks);
    const c = all(run({ ...noisy, seed: 8 }, 20, 500).ticks);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });

  it('hands out exactly as many emissions as a tick asks for', () => {
    const { ticks } = run(noisy, 10, 333);
    expect(ticks.map((t) => t.emissions.length)).toEqual(Array(10).fill(333));
  });

  it('emits only contract-valid events as valid or duplicate, and only invalid ones as malformed, of every kind of mistake', () => {
    const emissions = all(run(noisy, 60, 1000).ticks);
    const codes = new Set<string>();
    for (const e of emissions) {
      const result = validateEvent(e.event);
      if (e.kind === 'malformed') {
        expect(result.ok).toBe(false);
        if (!result.ok) codes.add(result.rejection.code);
      } else if (!result.ok) {
        throw new Error(`${e.event.type} ${e.event.id} is invalid: ${result.rejection.reason}`);
      }
    }
    expect([...codes].sort()).toEqual(['invalid_data', 'unknown_type', 'unknown_version']);
    expect(emissions.filter((e) => e.kind === 'malformed').length).toBeGreaterThan(0.01 * emissions.length);
  });

  it('covers every event type, with ids unique per source', () => {
    const { model, ticks } = run(noisy, 240, 1000);
    const valid = [...all(ticks), ...model.flush()].filter((e) => e.kind === 'valid').map((e) => e.event);
    expect(new Set(valid.map(identityOf)).size).toBe(valid.length);
    expect(new Set(valid.map((e) => e.type)).size).toBe(18);
    expect(valid.every((e) => e.source === 'simulator/42' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(e.time))).toBe(true);
  });

  it('re-delivers the very same object of an earlier delivery as a duplicate', () => {
    const emissions = all(run(noisy, 30, 500).ticks);
    const delivered = new Set<PulseEvent>();
    let duplicates = 0;
    for (const e of emissions) {
      if (e.kind === 'valid') delivered.add(e.event);
      if (e.kind !== 'duplicate') continue;
      duplicates += 1;
      expect(delivered.has(e.event)).toBe(true);
    }
    expect(duplicates).toBeGreaterThan(0.02 * emissions.length);
  });

  it('delivers a late event in a later tick than its fact, at least lateMinMs after it, its time unchanged', () => {
    const { model, ticks } = run(noisy, 60, 500);
    let late = 0;
    for (const { fromMs, nowMs, emissions } of ticks) {
      for (const e of emissions) {
        const at = Date.parse(e.event.time as string);
        if (!e.late) {
          expect(at).toBeLessThan(nowMs);
          continue;
        }
        late += 1;
        expect(at).toBeLessThan(fromMs);
        expect(at).toBeLessThanOrEqual(nowMs - 3_000);
      }
    }
    expect(late).toBeGreaterThan(0);
    const held = model.heldBack;
    expect(held).toBeGreaterThan(0);
    expect(model.flush().filter((e) => e.kind === 'valid' && e.late)).toHaveLength(held);
    expect(model.heldBack).toBe(0);
  });

  it('places orders whose total is the sum of their lines minus the discount, mostly as v2, in EUR mostly', () => {
    const orders = ofType(all(run({}, 300, 500).ticks), 'order.placed');
    expect(orders.length).toBeGreaterThan(500);
    for (const { data, dataversion } of orders) {
      const lines = data.items.reduce((sum, i) => sum + i.quantity * i.unitPriceMinor, 0);
      expect(data.totalMinor).toBe(lines - (data.discountMinor ?? 0));
      if (dataversion === 1) expect(data).not.toHaveProperty('sessionId');
    }
    const share = (f: (o: (typeof orders)[number]) => boolean) => orders.filter(f).length / orders.length;
    expect(share((o) => o.dataversion === 2)).toBeGreaterThan(0.8);
    expect(share((o) => o.dataversion === 1)).toBeGreaterThan(0.02);
    expect(share((o) => o.data.currency === 'EUR')).toBeGreaterThan(0.6);
    expect(share((o) => o.data.items.length > 1)).toBeGreaterThan(0.3);
    expect(new Set(orders.map((o) => o.data.channel)).size).toBe(4);
    expect(new Set(orders.map((o) => o.data.paymentMethod)).size).toBeGreaterThan(4);
  });

  it('reports every SKU x warehouse at the start, and keeps later reports consistent with its own deltas', () => {
    const { model, ticks } = run({ ...noisy, products: 30, stockReportEveryMs: 20_000 }, 150, 1000);
    const rest = model.flush();
    const first = ofType([...all(ticks), ...rest], 'stock.level_reported').filter((e) => e.time === '2026-11-28T10:00:00.000Z');
    expect(new Set(first.map((e) => `${e.data.sku}/${e.data.warehouse}`)).size).toBe(30 * 3);

    const ledger = new Ledger();
    for (const t of ticks) ledger.addEmissions(t.emissions);
    ledger.addEmissions(rest);
    expect(ledger.toJSON().stock.available).toEqual(model.stockLevels());
    expect(ledger.toJSON().byType['stock.level_reported']).toBe(30 * 3 * 8);
    expect(ledger.toJSON().byType['stock.received']).toBeGreaterThan(0);
  });
});

describe('incidents', () => {
  const [regression, stockout, paymentFailures] = demoIncidents(START, { firstAfterMs: 2 * MINUTE, everyMs: 3 * MINUTE, durationMs: 2 * MINUTE, spanMs: 9 * MINUTE });
  let model: TrafficModel;
  let emissions: Emission[];
  beforeAll(() => {
    const simulated = run({ incidents: [regression, stockout, paymentFailures] }, 10 * 60, 800);
    model = simulated.model;
    emissions = [...all(simulated.ticks), ...model.flush()];
  });

  it('come in a rotating order from the demo schedule', () => {
    expect([regression.kind, stockout.kind, paymentFailures.kind]).toEqual(['checkout_regression', 'stockout', 'payment_failures']);
    expect(stockout.fromMs - regression.fromMs).toBe(3 * MINUTE);
  });

  it('checkout_regression: checkouts fail at the payment step about 40% of the time, and fewer orders follow', () => {
    const paymentStepShare = (inside: boolean) => {
      const started = ofType(emissions, 'checkout.started').filter((e) => within(e, regression) === inside).length;
      const failed = ofType(emissions, 'checkout.failed').filter((e) => e.data.step === 'payment' && within(e, regression) === inside).length;
      return failed / started;
    };
    expect(paymentStepShare(true)).toBeGreaterThan(0.3);
    expect(paymentStepShare(true)).toBeLessThan(0.5);
    expect(paymentStepShare(false)).toBeLessThan(0.08);
    const ordersPerCheckout = (inside: boolean) =>
      ofType(emissions, 'order.placed').filter((e) => within(e, regression) === inside).length / ofType(emissions, 'checkout.started').filter((e) => within(e, regression) === inside).length;
    expect(ordersPerCheckout(true)).toBeLessThan(ordersPerCheckout(false) * 0.75);
  });

  it('stockout: a popular SKU is drained everywhere and sells no more while it is still viewed and added to carts', () => {
    const sku = model.catalogue.products[0].sku;
    const during = (e: PulseEvent) => within(e, stockout);
    const drains = ofType(emissions, 'stock.adjusted').filter((e) => during(e) && e.data.sku === sku);
    expect(drains.map((e) => [e.data.warehouse, e.data.delta < 0]).sort()).toEqual([['AMS', true], ['BER', true], ['MAD', true]]);
    expect(new Set(drains.map((e) => e.time)).size).toBe(1);
    expect(ofType(emissions, 'order.placed').filter((e) => during(e) && e.data.items.some((i) => i.sku === sku))).toHaveLength(0);
    expect(ofType(emissions, 'stock.received').filter((e) => during(e) && e.data.sku === sku)).toHaveLength(0);
    expect(ofType(emissions, 'product.viewed').filter((e) => during(e) && e.data.sku === sku).length).toBeGreaterThan(100);
    expect(ofType(emissions, 'cart.item_added').filter((e) => during(e) && e.data.sku === sku).length).toBeGreaterThan(10);
    // Cancellations may give a unit or two back during the incident; it stays far below its reorder point.
    const reorderPoint = model.catalogue.products[0].reorderPoint;
    const reports = ofType(emissions, 'stock.level_reported').filter((e) => during(e) && e.data.sku === sku);
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.every((e) => e.data.available < reorderPoint / 4)).toBe(true);
    // Before the incident it sold, and once it is over it is restocked.
    expect(ofType(emissions, 'order.placed').some((e) => Date.parse(e.time) < stockout.fromMs && e.data.items.some((i) => i.sku === sku))).toBe(true);
    expect(ofType(emissions, 'stock.received').some((e) => Date.parse(e.time) >= stockout.toMs && e.data.sku === sku)).toBe(true);
  });

  it('payment_failures: a burst of failed payments, for fraud and processor errors', () => {
    const failedShare = (inside: boolean) => {
      const failed = ofType(emissions, 'order.payment_failed').filter((e) => within(e, paymentFailures) === inside);
      const paid = ofType(emissions, 'order.paid').filter((e) => within(e, paymentFailures) === inside);
      return { share: failed.length / (failed.length + paid.length) };
    };
    expect(failedShare(true).share).toBeGreaterThan(0.4);
    expect(failedShare(false).share).toBeLessThan(0.1);
    const burst = ofType(emissions, 'order.payment_failed').filter((e) => within(e, paymentFailures));
    expect(burst.filter((e) => e.data.reason === 'fraud_suspected' || e.data.reason === 'processor_error').length / burst.length).toBeGreaterThan(0.8);
  });
});
