import * as clickstream from './schemas/clickstream.js';
import * as inventory from './schemas/inventory.js';
import * as orders from './schemas/orders.js';

export type Domain = 'orders' | 'inventory' | 'clickstream';

export interface EventTypeDefinition {
  readonly domain: Domain;
  readonly description: string;
  /** Every version ever published, oldest first. Version n is `versions[n - 1]`; entries are never removed. */
  readonly versions: readonly object[];
}

/**
 * The one list of event types Pulse accepts. Adding a version means appending to `versions`;
 * the compatibility test then proves the new version still accepts everything earlier versions did.
 */
export const eventCatalog = {
  'order.placed': { domain: 'orders', description: 'A customer placed an order.', versions: [orders.orderPlacedV1, orders.orderPlacedV2] },
  'order.paid': { domain: 'orders', description: 'The payment for an order was captured.', versions: [orders.orderPaidV1] },
  'order.payment_failed': { domain: 'orders', description: 'A payment attempt failed.', versions: [orders.orderPaymentFailedV1] },
  'order.cancelled': { domain: 'orders', description: 'An order was cancelled.', versions: [orders.orderCancelledV1] },
  'order.refunded': { domain: 'orders', description: 'Money was refunded.', versions: [orders.orderRefundedV1] },
  'stock.received': { domain: 'inventory', description: 'Goods were received.', versions: [inventory.stockReceivedV1] },
  'stock.adjusted': { domain: 'inventory', description: 'Stock was corrected.', versions: [inventory.stockAdjustedV1] },
  'stock.reserved': { domain: 'inventory', description: 'Stock was reserved for an order.', versions: [inventory.stockReservedV1] },
  'stock.released': { domain: 'inventory', description: 'A reservation was released.', versions: [inventory.stockReleasedV1] },
  'stock.level_reported': { domain: 'inventory', description: 'Periodic stock level snapshot.', versions: [inventory.stockLevelReportedV1] },
  'session.started': { domain: 'clickstream', description: 'A browsing session started.', versions: [clickstream.sessionStartedV1] },
  'page.viewed': { domain: 'clickstream', description: 'A page was viewed.', versions: [clickstream.pageViewedV1] },
  'product.viewed': { domain: 'clickstream', description: 'A product was viewed.', versions: [clickstream.productViewedV1] },
  'cart.item_added': { domain: 'clickstream', description: 'A product was added to a cart.', versions: [clickstream.cartItemAddedV1] },
  'cart.item_removed': { domain: 'clickstream', description: 'A product was removed from a cart.', versions: [clickstream.cartItemRemovedV1] },
  'checkout.started': { domain: 'clickstream', description: 'A checkout started.', versions: [clickstream.checkoutStartedV1] },
  'checkout.failed': { domain: 'clickstream', description: 'A checkout step failed.', versions: [clickstream.checkoutFailedV1] },
  'search.performed': { domain: 'clickstream', description: 'A catalogue search ran.', versions: [clickstream.searchPerformedV1] },
} as const satisfies Record<string, EventTypeDefinition>;

export type EventType = keyof typeof eventCatalog;
export const eventTypes = Object.keys(eventCatalog) as EventType[];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.hasOwn(eventCatalog, value);
}

export function latestVersion(type: EventType): number {
  return eventCatalog[type].versions.length;
}

export function schemaOf(type: EventType, version: number): object | undefined {
  return eventCatalog[type].versions[version - 1];
}
