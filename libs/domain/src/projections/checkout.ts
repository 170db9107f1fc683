import type { Projection } from '../projection.js';

export const checkout: Projection = {
  name: 'checkout',
  consumes: ['checkout.started', 'checkout.failed', 'order.placed', 'order.paid', 'order.payment_failed'],
  contribute(event, _timeMs, emit) {
    switch (event.type) {
      case 'checkout.started':
        emit('checkouts_started', 1, { currency: event.data.currency });
        return;
      case 'checkout.failed':
        emit('checkout_failures', 1, { step: event.data.step, error_code: event.data.errorCode });
        return;
      case 'order.placed':
        // An order is a completed checkout, whatever channel it came through.
        emit('checkouts_completed', 1, { channel: event.data.channel, payment_method: event.data.paymentMethod });
        return;
      case 'order.paid':
        emit('payments_captured', 1, { payment_method: event.data.paymentMethod, currency: event.data.currency });
        emit('payment_attempts', 1, { payment_method: event.data.paymentMethod });
        return;
      case 'order.payment_failed':
        emit('payment_failures', 1, { payment_method: event.data.paymentMethod, reason: event.data.reason });
        emit('payment_attempts', 1, { payment_method: event.data.paymentMethod });
        return;
    }
  },
};
