import { at, cartItemAdded, checkoutFailed, checkoutStarted, orderPaid, orderPaymentFailed, orderPlaced, pageViewed, productViewed, searchPerformed, sessionStarted, stockLevelReported, stockReceived, stockReserved } from '@pulse/contracts/testing';
import type { PulseEvent } from '@pulse/contracts';
import { BatchFold, projectBatch } from './project-batch.js';
import { projections } from './projections/index.js';
import { arriving, given } from './testing/specification.js';

const item = (sku: string, quantity: number, unitPriceMinor: number, category = 'shoes') => ({ sku, quantity, unitPriceMinor, category });

describe('sales', () => {
  it('counts orders, revenue and units by event time, per channel and per category', () => {
    const model = given(
      orderPlaced({ time: at(1), data: { channel: 'web', items: [item('A', 2, 1000), item('B', 1, 500, 'bags')], totalMinor: 2500 } }),
      orderPlaced({ time: at(2), data: { channel: 'app', items: [item('A', 1, 1000)], totalMinor: 1000 } }),
      orderPlaced({ time: at(75), data: { channel: 'web', items: [item('C', 3, 200)], totalMinor: 600 } }),
    ).whenProjected();

    expect(model.bucket('orders', '1m', at(0))).toMatchObject({ value: 2, lateEvents: 0, revisions: 0 });
    expect(model.bucket('orders', '1m', at(60)).value).toBe(1);
    expect(model.total('revenue', '1h')).toBe(4100);
    expect(model.total('revenue', '1d', { channel: 'web' })).toBe(3100);
    expect(model.total('units', '1m')).toBe(7);
    expect(model.total('category_revenue', '1m', { category: 'bags' })).toBe(500);
    expect(model.bucket('revenue', '1s', at(1)).value).toBe(2500);
  });

  it('keeps only the currency at 1s and every dimension from 1m up', () => {
    const model = given(orderPlaced({ data: { channel: 'web' } }), orderPlaced({ data: { channel: 'app' } }), pageViewed()).whenProjected();
    expect(model.facts.filter((f) => f.grain === '1s' && f.metric === 'orders').map((f) => f.dimKey)).toEqual(['{"currency":"EUR"}']);
    expect(model.facts.filter((f) => f.grain === '1s' && f.metric === 'page_views').map((f) => f.dimKey)).toEqual(['{}']);
    expect(model.facts.filter((f) => f.grain === '1m' && f.metric === 'orders')).toHaveLength(2);
  });
});

describe('late events', () => {
  it('count in the bucket of their event time and mark that bucket as revised', () => {
    // With 10 s of allowed lateness the 10:00 minute is final once events arrive after 10:01:10.
    const model = given(
      orderPlaced({ time: at(5), data: { totalMinor: 1000 } }),
      orderPlaced({ time: at(65), data: { totalMinor: 1000 } }),
      arriving(at(66), orderPlaced({ time: at(30), data: { totalMinor: 700 } })), // not late: the watermark, 10:00:56, has not passed 10:01
      orderPlaced({ time: at(130), data: { totalMinor: 1000 } }),
      arriving(at(130), orderPlaced({ time: at(20), data: { totalMinor: 300 } })), // late: the watermark 10:02:00 passed 10:01
    ).whenProjected({ allowedLatenessMs: 10_000 });

    expect(model.bucket('revenue', '1m', at(0))).toEqual({ value: 2000, events: 3, lateEvents: 1, revisions: 1 });
    expect(model.corrections('revenue', '1m')).toEqual([
      { grain: '1m', bucketMs: Date.parse(at(0)), metric: 'revenue', partition: 0, watermarkMs: Date.parse(at(120)), lateEvents: 1, delta: 300 },
    ]);
    expect(model.total('revenue', '1h')).toBe(4000);
  });

  it('decides lateness the same way however the stream is cut into batches', () => {
    const events = [at(1), at(70), at(2), at(140), at(3), at(65), at(200), at(4)].map((time, i) => arriving(at(20 * i + 5), orderPlaced({ id: `o${i}`, time, data: { totalMinor: 100 * (i + 1) } })));
    const whole = given(...events).whenProjected();
    expect(whole.corrections('revenue', '1m').length).toBeGreaterThan(0);
    for (const batchSize of [1, 2, 3, 5]) {
      const cut = given(...events).whenProjected({ batchSize });
      expect(cut.facts).toEqual(expect.arrayContaining(whole.facts));
      expect(cut.facts).toHaveLength(whole.facts.length);
      expect(cut.corrections('revenue', '1m')).toEqual(whole.corrections('revenue', '1m'));
    }
  });

  it('does not make a producer\'s own events late by the order its batch was split in', () => {
    // A batch spanning more than the allowed lateness arrives at once: its events are judged by that arrival.
    const arrival = at(61);
    const model = given(...[at(58), at(3), at(30), at(1)].map((time) => arriving(arrival, orderPlaced({ time })))).whenProjected({ allowedLatenessMs: 10_000 });
    expect(model.bucket('orders', '1m', at(0))).toMatchObject({ value: 4, lateEvents: 0, revisions: 0 });
  });

  it('groups late events arriving at the same watermark second into one revision', () => {
    const model = given(
      arriving(at(200), orderPlaced({ time: at(10) })),
      arriving(at(200.4), orderPlaced({ time: at(11) })),
      arriving(at(400), orderPlaced({ time: at(12) })),
    ).whenProjected();
    expect(model.bucket('orders', '1m', at(0))).toMatchObject({ value: 3, lateEvents: 3, revisions: 2 });
  });
});

describe('session activity', () => {
  it('keeps the first touch exactly and the last one in 15-second steps, the same however the events were batched', () => {
    const events = [
      pageViewed({ time: at(16), data: { sessionId: 's1' } }),
      sessionStarted({ time: at(1), data: { sessionId: 's1', channel: 'app' } }),
      productViewed({ time: at(29), data: { sessionId: 's1' } }),
      cartItemAdded({ time: at(44), data: { sessionId: 's1' } }),
      pageViewed({ time: at(31), data: { sessionId: 's1' } }),
    ];
    const whole = given(...events).whenProjected();
    const oneByOne = given(...events).whenProjected({ batchSize: 1 });
    expect(whole.session('s1')).toMatchObject({ first: at(1), last: at(30), channel: 'app' });
    expect(oneByOne.session('s1')).toEqual(whole.session('s1'));
  });
});

describe('checkout health and funnel', () => {
  it('counts every step and failure reason', () => {
    const model = given(
      sessionStarted({ data: { channel: 'app' } }),
      productViewed(),
      productViewed(),
      cartItemAdded(),
      checkoutStarted(),
      checkoutFailed({ data: { step: 'payment', errorCode: 'card_declined' } }),
      orderPlaced({ data: { paymentMethod: 'paypal' } }),
      orderPaid({ data: { paymentMethod: 'paypal' } }),
      orderPaymentFailed({ data: { reason: 'fraud_suspected' } }),
    ).whenProjected();
    expect(['sessions', 'product_views', 'cart_adds', 'funnel_checkouts', 'funnel_orders'].map((m) => model.total(m))).toEqual([1, 2, 1, 1, 1]);
    expect(model.total('sessions', '1m', { channel: 'app' })).toBe(1);
    expect(model.total('checkout_failures', '1m', { step: 'payment', error_code: 'card_declined' })).toBe(1);
    expect(model.total('checkouts_completed', '1m', { payment_method: 'paypal' })).toBe(1);
    expect(model.total('payment_failures', '1m', { reason: 'fraud_suspected' })).toBe(1);
    expect(model.total('payment_attempts')).toBe(2);
  });

  it('groups searches by normalised query and counts the ones without results', () => {
    const model = given(
      searchPerformed({ data: { query: '  Red   Shoes ' } }),
      searchPerformed({ data: { query: 'red shoes', resultCount: 0 } }),
    ).whenProjected();
    expect(model.total('searches', '1m', { query: 'red shoes' })).toBe(2);
    expect(model.total('zero_result_searches', '1m', { query: 'red shoes' })).toBe(1);
  });
});

describe('inventory', () => {
  it('is the latest level report plus the movements after it, whatever the arrival order', () => {
    const model = given(
      stockReserved({ time: at(30), data: { quantity: 2 } }),
      stockLevelReported({ time: at(20), data: { available: 50 } }),
      stockReserved({ time: at(10), data: { quantity: 5 } }), // before the report: already in it
      stockReceived({ time: at(40), data: { quantity: 10 } }),
    ).whenProjected();
    expect(model.stock('SKU-1', 'BER')).toBe(58);
  });
});

describe('a projection', () => {
  it('cannot emit a metric that is not one of its own base metrics', () => {
    const rogue = { name: 'sales' as const, consumes: [], contribute: (_e: unknown, _t: number, emit: (m: string, v: number) => void) => emit('sessions', 1) };
    expect(() => projectBatch({ partition: 0, events: [{ event: orderPlaced(), timeMs: 0, arrivedMs: 0 }], allowedLatenessMs: 0, projections: [rogue] })).toThrow(/not one of its base metrics/);
  });

  it('ignores events before the cutoff of a partial rebuild', () => {
    const result = projectBatch({
      partition: 0,
      events: [orderPlaced({ time: at(0) }), orderPlaced({ time: at(120) })].map((event) => ({ event, timeMs: Date.parse(event.time), arrivedMs: Date.parse(event.time) })),
      allowedLatenessMs: 0,
      projections: [projections.sales],
      cutoffMs: Date.parse(at(60)),
    });
    expect(result.changes[0].facts.filter((f) => f.metric === 'orders' && f.grain === '1m').map((f) => f.bucketMs)).toEqual([Date.parse(at(120))]);
  });
});

describe('a batch fed in parts', () => {
  it('gives exactly the changes of the whole batch, wherever it is cut', () => {
    const arrived = (event: PulseEvent, arrivedAt = event.time) => ({ event, timeMs: Date.parse(event.time), arrivedMs: Date.parse(arrivedAt) });
    const events = [
      arrived(sessionStarted({ time: at(1), data: { sessionId: 's1' } })),
      arrived(pageViewed({ time: at(2), data: { sessionId: 's1' } })),
      arrived(orderPlaced({ time: at(3), data: { totalMinor: 1000 } })),
      arrived(searchPerformed({ time: at(4), data: { sessionId: 's1', query: 'Red Shoes', resultCount: 0 } })),
      arrived(orderPlaced({ time: at(70), data: { totalMinor: 500 } })),
      arrived(orderPlaced({ time: at(20), data: { totalMinor: 300 } }), at(95)), // late: its minute closed at 10:01:10
      arrived(productViewed({ time: at(96), data: { sessionId: 's1' } })),
      arrived(stockReserved({ time: at(97), data: { quantity: 2 } })),
    ];
    const input = { partition: 0, allowedLatenessMs: 10_000, projections: Object.values(projections) };
    const whole = projectBatch({ ...input, events });
    for (let cut = 0; cut <= events.length; cut++) {
      const fold = new BatchFold(input);
      fold.add(events.slice(0, cut));
      fold.add(events.slice(cut));
      expect(fold.result()).toEqual(whole);
    }
    expect(whole.changes.find((c) => c.projection === 'sales')!.corrections.length).toBeGreaterThan(0);
  });
});
