import { identifier, orderId, positiveQuantity, sku, warehouse } from './fragments.js';

// Stock is tracked as "available to sell" per SKU and warehouse: received and released add to it,
// reserved takes from it, adjusted moves it either way, and a level report states it absolutely.

export const stockReceivedV1 = {
  $id: 'https://schemas.pulse.dev/events/stock.received/1',
  title: 'stock.received v1',
  description: 'Goods arrived in a warehouse and became available to sell.',
  type: 'object',
  additionalProperties: false,
  required: ['sku', 'warehouse', 'quantity'],
  properties: { sku, warehouse, quantity: positiveQuantity, purchaseOrderId: identifier },
} as const;

export const stockAdjustedV1 = {
  $id: 'https://schemas.pulse.dev/events/stock.adjusted/1',
  title: 'stock.adjusted v1',
  description: 'Available stock changed for a reason other than an order: a count correction, damage, a return.',
  type: 'object',
  additionalProperties: false,
  required: ['sku', 'warehouse', 'delta', 'reason'],
  properties: {
    sku,
    warehouse,
    delta: { type: 'integer', minimum: -1_000_000, maximum: 1_000_000, not: { const: 0 } },
    reason: { type: 'string', enum: ['count_correction', 'damaged', 'shrinkage', 'customer_return', 'transfer', 'other'] },
  },
} as const;

export const stockReservedV1 = {
  $id: 'https://schemas.pulse.dev/events/stock.reserved/1',
  title: 'stock.reserved v1',
  description: 'Stock was reserved for an order and is no longer available to sell.',
  type: 'object',
  additionalProperties: false,
  required: ['sku', 'warehouse', 'quantity', 'orderId'],
  properties: { sku, warehouse, quantity: positiveQuantity, orderId },
} as const;

export const stockReleasedV1 = {
  $id: 'https://schemas.pulse.dev/events/stock.released/1',
  title: 'stock.released v1',
  description: 'A reservation was given back (order cancelled, payment failed) and the stock is available again.',
  type: 'object',
  additionalProperties: false,
  required: ['sku', 'warehouse', 'quantity', 'orderId'],
  properties: { sku, warehouse, quantity: positiveQuantity, orderId },
} as const;

export const stockLevelReportedV1 = {
  $id: 'https://schemas.pulse.dev/events/stock.level_reported/1',
  title: 'stock.level_reported v1',
  description: 'Periodic snapshot from the warehouse system: the stock available to sell at `time`, stated absolutely.',
  type: 'object',
  additionalProperties: false,
  required: ['sku', 'warehouse', 'available'],
  properties: {
    sku,
    warehouse,
    available: { type: 'integer', minimum: 0, maximum: 100_000_000 },
    reorderPoint: { type: 'integer', minimum: 0, maximum: 100_000_000 },
  },
} as const;
