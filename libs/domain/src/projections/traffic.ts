import type { Projection } from '../projection.js';

/** Search terms are grouped case- and space-insensitively, and capped so one odd query cannot bloat a bucket key. */
export function normaliseQuery(query: string): string {
  return query.trim().toLowerCase().replace(/\s+/g, ' ').slice(0, 80);
}

export const traffic: Projection = {
  name: 'traffic',
  consumes: ['session.started', 'page.viewed', 'product.viewed', 'cart.item_added', 'cart.item_removed', 'checkout.started', 'checkout.failed', 'search.performed'],
  contribute(event, timeMs, emit, extras) {
    switch (event.type) {
      case 'session.started':
        extras.sessionTouch(event.data.sessionId, timeMs, event.data.channel, event.data.country);
        return;
      case 'page.viewed':
        emit('page_views', 1, { page_type: event.data.pageType });
        extras.sessionTouch(event.data.sessionId, timeMs);
        return;
      case 'product.viewed':
        emit('sku_views', 1, { sku: event.data.sku, category: event.data.category });
        extras.sessionTouch(event.data.sessionId, timeMs);
        return;
      case 'cart.item_added':
        emit('sku_cart_adds', 1, { sku: event.data.sku });
        extras.sessionTouch(event.data.sessionId, timeMs);
        return;
      case 'cart.item_removed':
      case 'checkout.started':
      case 'checkout.failed':
        extras.sessionTouch(event.data.sessionId, timeMs);
        return;
      case 'search.performed': {
        const query = normaliseQuery(event.data.query);
        emit('searches', 1, { query });
        if (event.data.resultCount === 0) emit('zero_result_searches', 1, { query });
        extras.sessionTouch(event.data.sessionId, timeMs);
        return;
      }
    }
  },
};
