import type { FromSchema } from 'json-schema-to-ts';
import type { EventType } from './catalog.js';
import type * as C from './schemas/clickstream.js';
import type * as I from './schemas/inventory.js';
import type * as O from './schemas/orders.js';

// Types derived from the newest schema version of each event type. Older versions are
// backward compatible with the newest (the compatibility test enforces it), so a consumer
// written against these types reads every version.
export interface EventDataMap {
  'order.placed': FromSchema<typeof O.orderPlacedV2>;
  'order.paid': FromSchema<typeof O.orderPaidV1>;
  'order.payment_failed': FromSchema<typeof O.orderPaymentFailedV1>;
  'order.cancelled': FromSchema<typeof O.orderCancelledV1>;
  'order.refunded': FromSchema<typeof O.orderRefundedV1>;
  'stock.received': FromSchema<typeof I.stockReceivedV1>;
  'stock.adjusted': FromSchema<typeof I.stockAdjustedV1>;
  'stock.reserved': FromSchema<typeof I.stockReservedV1>;
  'stock.released': FromSchema<typeof I.stockReleasedV1>;
  'stock.level_reported': FromSchema<typeof I.stockLevelReportedV1>;
  'session.started': FromSchema<typeof C.sessionStartedV1>;
  'page.viewed': FromSchema<typeof C.pageViewedV1>;
  'product.viewed': FromSchema<typeof C.productViewedV1>;
  'cart.item_added': FromSchema<typeof C.cartItemAddedV1>;
  'cart.item_removed': FromSchema<typeof C.cartItemRemovedV1>;
  'checkout.started': FromSchema<typeof C.checkoutStartedV1>;
  'checkout.failed': FromSchema<typeof C.checkoutFailedV1>;
  'search.performed': FromSchema<typeof C.searchPerformedV1>;
}

// Compile-time proof that the map covers exactly the catalogue.
type _Covers = [EventType] extends [keyof EventDataMap] ? ([keyof EventDataMap] extends [EventType] ? true : never) : never;
const _covers: _Covers = true;
void _covers;

export interface CloudEventOf<T extends EventType> {
  specversion: '1.0';
  id: string;
  source: string;
  type: T;
  /** RFC 3339 time the fact happened. */
  time: string;
  dataversion: number;
  datacontenttype?: 'application/json';
  dataschema?: string;
  subject?: string;
  traceparent?: string;
  tracestate?: string;
  data: EventDataMap[T];
}

/** Any Pulse event, discriminated by `type`. */
export type PulseEvent = { [T in EventType]: CloudEventOf<T> }[EventType];
