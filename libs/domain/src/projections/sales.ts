import type { Projection } from '../projection.js';

export const sales: Projection = {
  name: 'sales',
  consumes: ['order.placed', 'order.cancelled', 'order.refunded'],
  contribute(event, _timeMs, emit) {
    switch (event.type) {
      case 'order.placed': {
        const d = event.data;
        const dims = { channel: d.channel, country: d.country, payment_method: d.paymentMethod, currency: d.currency };
        let units = 0;
        for (const item of d.items) {
          units += item.quantity;
          emit('category_revenue', item.quantity * item.unitPriceMinor, { category: item.category, currency: d.currency, channel: d.channel, country: d.country });
          emit('category_units', item.quantity, { category: item.category, channel: d.channel, country: d.country });
        }
        emit('orders', 1, dims);
        emit('revenue', d.totalMinor, dims);
        emit('units', units, dims);
        return;
      }
      case 'order.cancelled':
        emit('cancellations', 1, { currency: event.data.currency, reason: event.data.reason });
        emit('cancelled_amount', event.data.totalMinor, { currency: event.data.currency, reason: event.data.reason });
        return;
      case 'order.refunded':
        emit('refunds', 1, { currency: event.data.currency, reason: event.data.reason });
        emit('refunded_amount', event.data.amountMinor, { currency: event.data.currency, reason: event.data.reason });
        return;
    }
  },
};
