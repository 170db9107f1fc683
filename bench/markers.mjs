// Marker events: valid orders in ISO 4217's testing currency, XTS. 1s buckets keep the currency, so
// the read model counts exactly the markers in one row per second, apart from all real traffic.
export const MARKER_CURRENCY = 'XTS';
export const MARKER_DIM_KEY = `{"currency":"${MARKER_CURRENCY}"}`;

/** Marker k (1, 2, ...): an order.placed v2 of one unit at 1.00 XTS, timed when it is sent. */
export function markerOrder(source, k, atMs) {
  return {
    specversion: '1.0',
    id: `m${k}`,
    source,
    type: 'order.placed',
    time: new Date(atMs).toISOString(),
    dataversion: 2,
    data: {
      orderId: `bench-marker-${k}`,
      customerId: 'bench-marker',
      items: [{ sku: 'BENCH-MARKER', quantity: 1, unitPriceMinor: 100, category: 'bench' }],
      totalMinor: 100,
      currency: MARKER_CURRENCY,
      channel: 'web',
      country: 'DE',
      paymentMethod: 'card',
      sessionId: 'bench-marker',
    },
  };
}
