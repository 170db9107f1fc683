import type { Projection } from '../projection.js';

/**
 * The funnel counts step events per bucket (sessions, product views, add-to-carts, checkouts, orders).
 * Conversions are ratios of those counts per bucket: exact and additive under late data, unlike a
 * per-session funnel, which would need every session's history to revise a bucket.
 */
export const funnel: Projection = {
  name: 'funnel',
  consumes: ['session.started', 'product.viewed', 'cart.item_added', 'checkout.started', 'order.placed'],
  contribute(event, _timeMs, emit) {
    switch (event.type) {
      case 'session.started':
        emit('sessions', 1, { channel: event.data.channel, country: event.data.country });
        return;
      case 'product.viewed':
        emit('product_views', 1);
        return;
      case 'cart.item_added':
        emit('cart_adds', 1);
        return;
      case 'checkout.started':
        emit('funnel_checkouts', 1);
        return;
      case 'order.placed':
        emit('funnel_orders', 1);
        return;
    }
  },
};
