import {
  at,
  checkoutFailed,
  checkoutStarted,
  orderPaid,
  orderPaymentFailed,
  orderPlaced,
  orderRefunded,
  searchPerformed,
  sessionStarted,
  stockAdjusted,
  stockLevelReported,
  stockReceived,
  stockReleased,
  stockReserved,
} from '@pulse/contracts/testing';
import { Ledger } from './ledger.js';
import type { Emission } from './traffic-model.js';

const berlin = { sku: 'SKU-1', warehouse: 'BER' };

describe('the ledger', () => {
  it('counts each source + id once, whatever the delivery', () => {
    const ledger = new Ledger();
    const order = orderPlaced({ id: 'o-1', data: { totalMinor: 2500 } });
    const sameIdOtherSource = orderPlaced({ id: 'o-1', source: 'other/shop', data: { totalMinor: 1000 } });
    const emissions: Emission[] = [
      { kind: 'valid', event: order, late: false },
      { kind: 'duplicate', event: order, late: false },
      { kind: 'valid', event: sameIdOtherSource, late: true },
      { kind: 'malformed', event: { specversion: '1.0', id: 'm-1', source: 'x', type: 'order.shipped', time: at(0), dataversion: 1, data: {} }, late: false },
    ];
    ledger.addEmissions(emissions);
    expect(ledger.add(order)).toBe(false);
    expect(ledger.size).toBe(2);
    expect(ledger.toJSON().orders.byCurrency.EUR).toEqual({ orders: 2, revenueMinor: 3500, units: 2 });
  });

  it('states stock as the latest report plus the deltas strictly after it, by event time', () => {
    const ledger = new Ledger();
    [
      stockLevelReported({ time: at(0), data: { ...berlin, available: 100 } }),
      stockReserved({ time: at(60), data: { ...berlin, quantity: 3 } }), // 97
      stockReleased({ time: at(120), data: { ...berlin, quantity: 1 } }), // 98
      stockReserved({ time: at(-30), data: { ...berlin, quantity: 5 } }), // before the report: already in it
      stockLevelReported({ time: at(180), data: { ...berlin, available: 90 } }), // the count says 90, not 98
      stockReceived({ time: at(180), data: { ...berlin, quantity: 50 } }), // same millisecond as the report: in it
      stockReceived({ time: at(240), data: { ...berlin, quantity: 20 } }), // 110
      stockAdjusted({ time: at(300), data: { ...berlin, delta: -2, reason: 'damaged' } }), // 108
      stockLevelReported({ time: at(150), data: { ...berlin, available: 7 } }), // arrives late, older than the latest
      stockReceived({ time: at(10), data: { sku: 'SKU-2', warehouse: 'AMS', quantity: 10 } }), // never reported: from zero
      stockReserved({ time: at(20), data: { sku: 'SKU-2', warehouse: 'AMS', quantity: 4 } }),
    ].forEach((e) => ledger.add(e));
    const { stock } = ledger.toJSON();
    expect(stock.available).toEqual({ 'SKU-1/BER': 108, 'SKU-2/AMS': 6 });
    expect(stock).toMatchObject({ receivedUnits: 80, reservedUnits: 12, releasedUnits: 1, adjustedUnits: -2 });
  });

  it('sums orders per currency, channel, country, payment method and category, in integer minor units', () => {
    const ledger = new Ledger();
    const items = [
      { sku: 'SHO-1', quantity: 2, unitPriceMinor: 4999, category: 'shoes' },
      { sku: 'BAG-1', quantity: 1, unitPriceMinor: 2999, category: 'bags' },
    ];
    ledger.add(orderPlaced({ dataversion: 2, time: at(5), data: { items, totalMinor: 11997 - 1199, discountMinor: 1199, channel: 'app', country: 'DE', paymentMethod: 'paypal' } }));
    ledger.add(orderPlaced({ time: at(70), data: { items: [items[1]], totalMinor: 2599, currency: 'GBP', channel: 'web', country: 'GB' } }));
    ledger.add(orderPaid({ time: at(75), data: { amountMinor: 2599, currency: 'GBP' } }));
    ledger.add(orderPaymentFailed({ time: at(80), data: { reason: 'fraud_suspected' } }));
    ledger.add(orderRefunded({ time: at(90), data: { amountMinor: 500 } }));
    const t = ledger.toJSON();
    expect(t.orders.count).toBe(2);
    expect(t.orders.units).toBe(4);
    expect(t.orders.byCurrency).toEqual({ EUR: { orders: 1, revenueMinor: 10798, units: 3 }, GBP: { orders: 1, revenueMinor: 2599, units: 1 } });
    expect(t.orders.byChannel.app.EUR).toEqual({ orders: 1, revenueMinor: 10798, units: 3 });
    expect(t.orders.byCountry.GB.GBP.revenueMinor).toBe(2599);
    expect(t.orders.byPaymentMethod.card.GBP.orders).toBe(1);
    expect(t.orders.byDataversion).toEqual({ 1: 1, 2: 1 });
    expect(t.orders.discountMinor).toEqual({ EUR: 1199 });
    expect(t.items.byCategory.bags).toEqual({ EUR: { revenueMinor: 2999, units: 1 }, GBP: { revenueMinor: 2999, units: 1 } });
    expect(t.items.unitsBySku).toEqual({ 'SHO-1': 2, 'BAG-1': 2 });
    expect(t.payments).toEqual({ succeeded: 1, succeededMinor: { GBP: 2599 }, failed: 1, failedMinor: { EUR: 2500 }, failedByReason: { fraud_suspected: 1 } });
    expect(t.refunds).toEqual({ count: 1, amountMinor: { EUR: 500 }, byReason: { returned: 1 } });
  });

  it('buckets by the UTC minute of event time, and survives a round trip through JSON', () => {
    const ledger = new Ledger();
    ledger.add(sessionStarted({ time: at(1) }));
    ledger.add(searchPerformed({ time: at(2), data: { resultCount: 0 } }));
    ledger.add(checkoutStarted({ time: at(59) }));
    ledger.add(checkoutFailed({ time: at(61), data: { step: 'payment', errorCode: 'card_declined' } }));
    ledger.add(orderPlaced({ time: at(65) }));
    const t = ledger.toJSON();
    expect(Object.keys(t.minutes)).toEqual(['2026-11-28T10:00:00.000Z', '2026-11-28T10:01:00.000Z']);
    expect(t.minutes['2026-11-28T10:00:00.000Z']).toMatchObject({ events: 3, sessions: 1, searches: 1, checkoutsStarted: 1, orders: 0 });
    expect(t.minutes['2026-11-28T10:01:00.000Z']).toMatchObject({ events: 2, checkoutsFailed: 1, orders: 1, revenueMinor: { EUR: 2500 }, units: 1 });
    expect(t.clickstream).toMatchObject({ sessions: 1, searches: 1, zeroResultSearches: 1 });
    expect(t.checkouts).toMatchObject({ started: 1, failed: 1, failedByStep: { payment: 1 }, failedByErrorCode: { card_declined: 1 } });
    expect(JSON.parse(JSON.stringify(ledger))).toEqual(t);
  });
});
