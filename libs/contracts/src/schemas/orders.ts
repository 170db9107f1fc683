import { category, channel, country, currency, identifier, minorUnits, orderId, paymentMethod, positiveQuantity, sessionId, sku } from './fragments.js';

const lineItem = {
  type: 'object',
  additionalProperties: false,
  required: ['sku', 'quantity', 'unitPriceMinor', 'category'],
  properties: { sku, quantity: positiveQuantity, unitPriceMinor: minorUnits, category },
} as const;

export const orderPlacedV1 = {
  $id: 'https://schemas.pulse.dev/events/order.placed/1',
  title: 'order.placed v1',
  description: 'A customer placed an order (checkout completed). Amounts in minor units of `currency`.',
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'customerId', 'items', 'totalMinor', 'currency', 'channel', 'country', 'paymentMethod'],
  properties: {
    orderId,
    customerId: identifier,
    items: { type: 'array', minItems: 1, maxItems: 500, items: lineItem },
    totalMinor: minorUnits,
    currency,
    channel,
    country,
    paymentMethod,
  },
} as const;

/** v2 adds the optional session (so the funnel can follow a session into an order) and discount. */
export const orderPlacedV2 = {
  ...orderPlacedV1,
  $id: 'https://schemas.pulse.dev/events/order.placed/2',
  title: 'order.placed v2',
  properties: {
    ...orderPlacedV1.properties,
    sessionId,
    discountMinor: minorUnits,
    couponCode: { type: 'string', pattern: '^[A-Z0-9-]{1,32}$' },
  },
} as const;

export const orderPaidV1 = {
  $id: 'https://schemas.pulse.dev/events/order.paid/1',
  title: 'order.paid v1',
  description: 'The payment for an order was captured.',
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'amountMinor', 'currency', 'paymentMethod'],
  properties: { orderId, amountMinor: minorUnits, currency, paymentMethod },
} as const;

export const paymentFailureReason = {
  type: 'string',
  enum: ['card_declined', 'insufficient_funds', 'fraud_suspected', 'expired_card', 'authentication_failed', 'processor_error', 'timeout'],
} as const;

export const orderPaymentFailedV1 = {
  $id: 'https://schemas.pulse.dev/events/order.payment_failed/1',
  title: 'order.payment_failed v1',
  description: 'A payment attempt for an order failed.',
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'amountMinor', 'currency', 'paymentMethod', 'reason'],
  properties: { orderId, amountMinor: minorUnits, currency, paymentMethod, reason: paymentFailureReason },
} as const;

export const orderCancelledV1 = {
  $id: 'https://schemas.pulse.dev/events/order.cancelled/1',
  title: 'order.cancelled v1',
  description: 'An order was cancelled before fulfilment. Carries the cancelled amount so totals need no lookup.',
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'totalMinor', 'currency', 'reason'],
  properties: {
    orderId,
    totalMinor: minorUnits,
    currency,
    reason: { type: 'string', enum: ['customer_request', 'payment_failed', 'out_of_stock', 'fraud', 'other'] },
  },
} as const;

export const orderRefundedV1 = {
  $id: 'https://schemas.pulse.dev/events/order.refunded/1',
  title: 'order.refunded v1',
  description: 'Money was returned to the customer for (part of) an order.',
  type: 'object',
  additionalProperties: false,
  required: ['orderId', 'refundId', 'amountMinor', 'currency', 'reason'],
  properties: {
    orderId,
    refundId: identifier,
    amountMinor: minorUnits,
    currency,
    reason: { type: 'string', enum: ['returned', 'damaged', 'not_delivered', 'goodwill', 'other'] },
  },
} as const;
