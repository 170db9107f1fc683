// Building blocks shared by the event schemas. Each is a plain JSON Schema fragment, declared
// `as const` so that json-schema-to-ts can derive exact TypeScript types from the same object
// that ajv compiles: the types cannot drift from the schemas.

export const sku = {
  type: 'string',
  description: 'Stock keeping unit, as the shop catalogue spells it.',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$',
} as const;

export const warehouse = {
  type: 'string',
  description: 'Warehouse or store code that holds the stock.',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$',
} as const;

export const category = {
  type: 'string',
  description: 'Merchandising category of the product (lower-case slug).',
  pattern: '^[a-z0-9][a-z0-9-]{0,47}$',
} as const;

export const identifier = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
} as const;

/** Money is never a float: an integer count of the currency's minor unit (cents for EUR/USD). */
export const minorUnits = {
  type: 'integer',
  minimum: 0,
  maximum: 100_000_000_000,
  description: 'Amount in minor units of `currency` (for example cents), an integer: never a float.',
} as const;

export const currency = {
  type: 'string',
  pattern: '^[A-Z]{3}$',
  description: 'ISO 4217 currency code.',
} as const;

export const country = {
  type: 'string',
  pattern: '^[A-Z]{2}$',
  description: 'ISO 3166-1 alpha-2 country code of the customer.',
} as const;

export const channel = {
  type: 'string',
  enum: ['web', 'app', 'marketplace', 'store'],
  description: 'Sales channel the customer used.',
} as const;

export const paymentMethod = {
  type: 'string',
  enum: ['card', 'paypal', 'klarna', 'apple_pay', 'google_pay', 'bank_transfer', 'cash_on_delivery'],
} as const;

export const positiveQuantity = { type: 'integer', minimum: 1, maximum: 1_000_000 } as const;

export const sessionId = { ...identifier, description: 'Browsing session identifier.' } as const;
export const orderId = { ...identifier, description: 'Order identifier, unique within the shop.' } as const;
