import type { Projection } from '../projection.js';

/**
 * Stock is "available to sell" per SKU and warehouse. A level report states it absolutely at its
 * event time; every movement is kept with its event time, so current stock is the latest report plus
 * the movements after it, whatever order they arrived in.
 */
export const inventory: Projection = {
  name: 'inventory',
  consumes: ['order.placed', 'stock.received', 'stock.released', 'stock.reserved', 'stock.adjusted', 'stock.level_reported'],
  contribute(event, timeMs, emit, extras) {
    switch (event.type) {
      case 'order.placed':
        for (const item of event.data.items) emit('sku_units_ordered', item.quantity, { sku: item.sku });
        return;
      case 'stock.received':
        emit('stock_received', event.data.quantity, { sku: event.data.sku });
        extras.stockMovement({ sku: event.data.sku, warehouse: event.data.warehouse, atMs: timeMs, delta: event.data.quantity });
        return;
      case 'stock.released':
        extras.stockMovement({ sku: event.data.sku, warehouse: event.data.warehouse, atMs: timeMs, delta: event.data.quantity });
        return;
      case 'stock.reserved':
        extras.stockMovement({ sku: event.data.sku, warehouse: event.data.warehouse, atMs: timeMs, delta: -event.data.quantity });
        return;
      case 'stock.adjusted':
        extras.stockMovement({ sku: event.data.sku, warehouse: event.data.warehouse, atMs: timeMs, delta: event.data.delta });
        return;
      case 'stock.level_reported':
        extras.stockLevel({ sku: event.data.sku, warehouse: event.data.warehouse, reportedAtMs: timeMs, available: event.data.available, reorderPoint: event.data.reorderPoint ?? null });
        return;
    }
  },
};
