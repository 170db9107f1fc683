import { category, channel, country, currency, identifier, minorUnits, positiveQuantity, sessionId, sku } from './fragments.js';

export const sessionStartedV1 = {
  $id: 'https://schemas.pulse.dev/events/session.started/1',
  title: 'session.started v1',
  description: 'A visitor started a browsing session.',
  type: 'object',
  additionalProperties: false,
  required: ['sessionId', 'visitorId', 'channel', 'country', 'device'],
  properties: {
    sessionId,
    visitorId: identifier,
    channel,
    country,
    device: { type: 'string', enum: ['desktop', 'mobile', 'tablet'] },
    referrer: { type: 'string', maxLength: 2048 },
  },
} as const;

export const pageViewedV1 = {
  $id: 'https://schemas.pulse.dev/events/page.viewed/1',
  title: 'page.viewed v1',
  description: 'A page was shown to a visitor.',
  type: 'object',
  additionalProperties: false,
  required: ['sessionId', 'path', 'pageType'],
  properties: {
    sessionId,
    path: { type: 'string', minLength: 1, maxLength: 2048 },
    pageType: { type: 'string', enum: ['home', 'category', 'product', 'search', 'cart', 'checkout', 'account', 'other'] },
  },
} as const;

export const productViewedV1 = {
  $id: 'https://schemas.pulse.dev/events/product.viewed/1',
  title: 'product.viewed v1',
  description: 'A visitor looked at a product detail page.',
  type: 'object',
  additionalProperties: false,
  required: ['sessionId', 'sku', 'category'],
  properties: { sessionId, sku, category, priceMinor: minorUnits, currency },
} as const;

export const cartItemAddedV1 = {
  $id: 'https://schemas.pulse.dev/events/cart.item_added/1',
  title: 'cart.item_added v1',
  description: 'A product was added to a cart.',
  type: 'object',
  additionalProperties: false,
  required: ['sessionId', 'sku', 'category', 'quantity', 'unitPriceMinor', 'currency'],
  properties: { sessionId, sku, category, quantity: positiveQuantity, unitPriceMinor: minorUnits, currency },
} as const;

export const cartItemRemovedV1 = {
  $id: 'https://schemas.pulse.dev/events/cart.item_removed/1',
  title: 'cart.item_removed v1',
  description: 'A product was removed from a cart.',
  type: 'object',
  additionalProperties: false,
  required: ['sessionId', 'sku', 'quantity'],
  properties: { sessionId, sku, quantity: positiveQuantity },
} as const;

export const checkoutStartedV1 = {
  $id: 'https://schemas.pulse.dev/events/checkout.started/1',
  title: 'checkout.started v1',
  description: 'A visitor entered the checkout with a cart.',
  type: 'object',
  additionalProperties: false,
  required: ['sessionId', 'itemCount', 'valueMinor', 'currency'],
  properties: { sessionId, cartId: identifier, itemCount: positiveQuantity, valueMinor: minorUnits, currency },
} as const;

export const checkoutStep = { type: 'string', enum: ['cart', 'address', 'shipping', 'payment', 'review'] } as const;

export const checkoutFailedV1 = {
  $id: 'https://schemas.pulse.dev/events/checkout.failed/1',
  title: 'checkout.failed v1',
  description: 'A checkout step failed with an error shown to the visitor.',
  type: 'object',
  additionalProperties: false,
  required: ['sessionId', 'step', 'errorCode'],
  properties: {
    sessionId,
    step: checkoutStep,
    errorCode: { type: 'string', pattern: '^[a-z0-9_]{1,48}$', description: 'Machine-readable error code, snake_case.' },
    message: { type: 'string', maxLength: 500 },
  },
} as const;

export const searchPerformedV1 = {
  $id: 'https://schemas.pulse.dev/events/search.performed/1',
  title: 'search.performed v1',
  description: 'A visitor searched the catalogue.',
  type: 'object',
  additionalProperties: false,
  required: ['sessionId', 'query', 'resultCount'],
  properties: {
    sessionId,
    query: { type: 'string', minLength: 1, maxLength: 200 },
    resultCount: { type: 'integer', minimum: 0 },
  },
} as const;

