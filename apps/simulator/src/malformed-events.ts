import type { Random } from './random.js';

// Events a buggy producer would send. Each breaks exactly one rule of the contracts, the kinds of
// mistakes ingestion must catch and keep in the dead-letter stream: a missing required field, money
// as a float, a type nobody declared, a dataversion that does not exist, a value outside an enum.
// Each has an id and source of its own, so a dead letter can be traced back to the emission.

export type MalformedVariant = 'missing_field' | 'float_money' | 'unknown_type' | 'unknown_version' | 'wrong_enum';

export const malformedVariants: readonly MalformedVariant[] = ['missing_field', 'float_money', 'unknown_type', 'unknown_version', 'wrong_enum'];

type Body = Pick<MalformedEvent, 'type' | 'dataversion' | 'data'>;

export interface MalformedEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  time: string;
  dataversion: number;
  data: Record<string, unknown>;
}

const bodies: Record<MalformedVariant, ReadonlyArray<(session: string) => Body>> = {
  missing_field: [
    (s) => ({ type: 'page.viewed', dataversion: 1, data: { sessionId: s, path: '/c/shoes' } }),
    (s) => ({ type: 'cart.item_added', dataversion: 1, data: { sessionId: s, sku: 'SHO-1000', category: 'shoes', unitPriceMinor: 4999, currency: 'EUR' } }),
    () => ({ type: 'order.paid', dataversion: 1, data: { orderId: 'o-unknown', currency: 'EUR', paymentMethod: 'card' } }),
  ],
  float_money: [
    (s) => ({ type: 'cart.item_added', dataversion: 1, data: { sessionId: s, sku: 'SHO-1000', category: 'shoes', quantity: 1, unitPriceMinor: 49.99, currency: 'EUR' } }),
    () => ({ type: 'order.paid', dataversion: 1, data: { orderId: 'o-float', amountMinor: 1999.5, currency: 'EUR', paymentMethod: 'card' } }),
  ],
  unknown_type: [
    (s) => ({ type: 'cart.abandoned', dataversion: 1, data: { sessionId: s } }),
    () => ({ type: 'order.shipped', dataversion: 1, data: { orderId: 'o-shipped', carrier: 'dhl' } }),
  ],
  unknown_version: [
    (s) => ({ type: 'product.viewed', dataversion: 3, data: { sessionId: s, sku: 'SHO-1000', category: 'shoes' } }),
    (s) => ({ type: 'search.performed', dataversion: 2, data: { sessionId: s, query: 'boots', resultCount: 4 } }),
  ],
  wrong_enum: [
    (s) => ({ type: 'session.started', dataversion: 1, data: { sessionId: s, visitorId: 'v-tv', channel: 'web', country: 'DE', device: 'smart-tv' } }),
    (s) => ({ type: 'checkout.failed', dataversion: 1, data: { sessionId: s, step: 'delivery', errorCode: 'no_slot' } }),
    () => ({ type: 'order.payment_failed', dataversion: 1, data: { orderId: 'o-enum', amountMinor: 2500, currency: 'EUR', paymentMethod: 'cheque', reason: 'card_declined' } }),
  ],
};

export function malformedEvent(random: Random, id: string, source: string, time: string, sessionId: string): MalformedEvent {
  const variant = random.pick(malformedVariants);
  const body = random.pick(bodies[variant])(sessionId);
  return { specversion: '1.0', id, source, type: body.type, time, dataversion: body.dataversion, data: body.data };
}
