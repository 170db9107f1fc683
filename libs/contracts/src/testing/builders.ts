import type { EventType } from '../catalog.js';
import type { CloudEventOf, EventDataMap } from '../types.js';

// Test data builders: every field has a sensible default, the clock is fixed, and a test states only
// what it is about: `orderPlaced({ data: { totalMinor: 1250 } })`.

export const FIXED_TIME = '2026-11-28T10:00:00.000Z';

let clock = FIXED_TIME;
/**
 * Moves the builders' fixed clock (default time and the base of `at`). Integration tests set it near
 * the real time, because the projector rejects events dated far from when they were stored.
 */
export function useClock(iso: string): void {
  clock = iso;
}

/** A minute boundary `minutesAgo` minutes before now: a clock for tests against real services. */
export function recentMinute(minutesAgo = 30): string {
  return new Date((Math.floor(Date.now() / 60_000) - minutesAgo) * 60_000).toISOString();
}

type Overrides<T extends EventType> = Partial<Omit<CloudEventOf<T>, 'data'>> & { data?: Partial<EventDataMap[T]> };

let counter = 0;
/** Deterministic ids per test file run: tests that need stable ids pass their own. */
export function nextId(prefix = 'evt'): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

function build<T extends EventType>(type: T, defaults: EventDataMap[T], overrides: Overrides<T> = {}): CloudEventOf<T> {
  const { data, ...envelope } = overrides;
  return {
    specversion: '1.0',
    id: nextId(type),
    source: 'test/builders',
    type,
    time: clock,
    dataversion: 1,
    ...envelope,
    data: { ...defaults, ...data } as EventDataMap[T],
  } as CloudEventOf<T>;
}

/** `time` shifted by whole seconds from FIXED_TIME: `at(90)` is 10:01:30. */
export function at(seconds: number, base?: string): string {
  return new Date(Date.parse(base ?? clock) + seconds * 1000).toISOString();
}

export const orderPlaced = (o?: Overrides<'order.placed'>) =>
  build(
    'order.placed',
    {
      orderId: `o-${counter + 1}`,
      customerId: 'c-1',
      items: [{ sku: 'SKU-1', quantity: 1, unitPriceMinor: 2500, category: 'shoes' }],
      totalMinor: 2500,
      currency: 'EUR',
      channel: 'web',
      country: 'DE',
      paymentMethod: 'card',
    },
    o,
  );

export const orderPaid = (o?: Overrides<'order.paid'>) =>
  build('order.paid', { orderId: 'o-1', amountMinor: 2500, currency: 'EUR', paymentMethod: 'card' }, o);

export const orderPaymentFailed = (o?: Overrides<'order.payment_failed'>) =>
  build('order.payment_failed', { orderId: 'o-1', amountMinor: 2500, currency: 'EUR', paymentMethod: 'card', reason: 'card_declined' }, o);

export const orderCancelled = (o?: Overrides<'order.cancelled'>) =>
  build('order.cancelled', { orderId: 'o-1', totalMinor: 2500, currency: 'EUR', reason: 'customer_request' }, o);

export const orderRefunded = (o?: Overrides<'order.refunded'>) =>
  build('order.refunded', { orderId: 'o-1', refundId: 'r-1', amountMinor: 2500, currency: 'EUR', reason: 'returned' }, o);

export const stockReceived = (o?: Overrides<'stock.received'>) => build('stock.received', { sku: 'SKU-1', warehouse: 'BER', quantity: 10 }, o);
export const stockAdjusted = (o?: Overrides<'stock.adjusted'>) => build('stock.adjusted', { sku: 'SKU-1', warehouse: 'BER', delta: -1, reason: 'damaged' }, o);
export const stockReserved = (o?: Overrides<'stock.reserved'>) => build('stock.reserved', { sku: 'SKU-1', warehouse: 'BER', quantity: 1, orderId: 'o-1' }, o);
export const stockReleased = (o?: Overrides<'stock.released'>) => build('stock.released', { sku: 'SKU-1', warehouse: 'BER', quantity: 1, orderId: 'o-1' }, o);
export const stockLevelReported = (o?: Overrides<'stock.level_reported'>) =>
  build('stock.level_reported', { sku: 'SKU-1', warehouse: 'BER', available: 100 }, o);

export const sessionStarted = (o?: Overrides<'session.started'>) =>
  build('session.started', { sessionId: 's-1', visitorId: 'v-1', channel: 'web', country: 'DE', device: 'desktop' }, o);
export const pageViewed = (o?: Overrides<'page.viewed'>) => build('page.viewed', { sessionId: 's-1', path: '/', pageType: 'home' }, o);
export const productViewed = (o?: Overrides<'product.viewed'>) => build('product.viewed', { sessionId: 's-1', sku: 'SKU-1', category: 'shoes' }, o);
export const cartItemAdded = (o?: Overrides<'cart.item_added'>) =>
  build('cart.item_added', { sessionId: 's-1', sku: 'SKU-1', category: 'shoes', quantity: 1, unitPriceMinor: 2500, currency: 'EUR' }, o);
export const cartItemRemoved = (o?: Overrides<'cart.item_removed'>) => build('cart.item_removed', { sessionId: 's-1', sku: 'SKU-1', quantity: 1 }, o);
export const checkoutStarted = (o?: Overrides<'checkout.started'>) =>
  build('checkout.started', { sessionId: 's-1', itemCount: 1, valueMinor: 2500, currency: 'EUR' }, o);
export const checkoutFailed = (o?: Overrides<'checkout.failed'>) => build('checkout.failed', { sessionId: 's-1', step: 'payment', errorCode: 'card_declined' }, o);
export const searchPerformed = (o?: Overrides<'search.performed'>) => build('search.performed', { sessionId: 's-1', query: 'sneakers', resultCount: 12 }, o);
