import { at, cartItemAdded, checkoutFailed, checkoutStarted, orderPaid, orderPlaced, pageViewed, productViewed, searchPerformed, sessionStarted, stockLevelReported, stockReserved } from '@pulse/contracts/testing';
import type { PulseEvent } from '@pulse/contracts';

/**
 * A deterministic, varied stream for integration tests: every event type the read models use, event
 * times spread over `minutes`, a share of events delivered late (out of order) and a share repeated.
 */
export function mixedTraffic(count: number, options: { minutes?: number; lateShare?: number; duplicateShare?: number; seed?: number } = {}): PulseEvent[] {
  const minutes = options.minutes ?? 20;
  let state = options.seed ?? 42;
  const rand = () => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
    return ((state >>> 0) % 1_000_000) / 1_000_000;
  };
  const makers = [
    (i: number, t: string) => sessionStarted({ id: `e${i}`, time: t, data: { sessionId: `s${i % 997}`, channel: rand() < 0.6 ? 'web' : 'app' } }),
    (i: number, t: string) => pageViewed({ id: `e${i}`, time: t, data: { sessionId: `s${i % 997}`, pageType: rand() < 0.5 ? 'product' : 'category' } }),
    (i: number, t: string) => productViewed({ id: `e${i}`, time: t, data: { sessionId: `s${i % 997}`, sku: `SKU-${i % 37}` } }),
    (i: number, t: string) => cartItemAdded({ id: `e${i}`, time: t, data: { sessionId: `s${i % 997}`, sku: `SKU-${i % 37}` } }),
    (i: number, t: string) => checkoutStarted({ id: `e${i}`, time: t }),
    (i: number, t: string) => checkoutFailed({ id: `e${i}`, time: t, data: { step: rand() < 0.5 ? 'payment' : 'shipping' } }),
    (i: number, t: string) =>
      orderPlaced({
        id: `e${i}`,
        time: t,
        data: { channel: rand() < 0.5 ? 'web' : 'app', country: rand() < 0.5 ? 'DE' : 'FR', items: [{ sku: `SKU-${i % 37}`, quantity: 1 + (i % 3), unitPriceMinor: 1999, category: 'shoes' }], totalMinor: 1999 * (1 + (i % 3)) },
      }),
    (i: number, t: string) => orderPaid({ id: `e${i}`, time: t }),
    (i: number, t: string) => searchPerformed({ id: `e${i}`, time: t, data: { query: `q${i % 11}`, resultCount: i % 5 } }),
    (i: number, t: string) => stockReserved({ id: `e${i}`, time: t, data: { sku: `SKU-${i % 37}`, quantity: 1 } }),
    (i: number, t: string) => stockLevelReported({ id: `e${i}`, time: t, data: { sku: `SKU-${i % 37}`, available: 500 + (i % 50) } }),
  ];
  const spanSeconds = minutes * 60;
  const events: PulseEvent[] = [];
  const held: PulseEvent[] = [];
  for (let i = 0; i < count; i++) {
    const second = Math.floor((i / count) * spanSeconds);
    const event = makers[i % makers.length](i, at(second + rand()));
    if (rand() < (options.lateShare ?? 0.05)) held.push(event);
    else events.push(event);
    // Late events come out a few minutes of traffic later.
    if (held.length && rand() < 0.02) events.push(...held.splice(0, held.length));
    if (rand() < (options.duplicateShare ?? 0.02) && events.length) events.push(events[Math.floor(rand() * events.length)]);
  }
  events.push(...held);
  return events;
}
