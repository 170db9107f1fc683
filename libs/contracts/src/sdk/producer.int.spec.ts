import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { partitionOf, PulseNames } from '@pulse/contracts';
import { ensureStreams, partitionOfEvent, PulseProducer } from '@pulse/contracts/sdk';
import { isolatedNats } from '../../../../test/support/services.js';
import { orderPlaced, pageViewed, productViewed, searchPerformed } from '@pulse/contracts/testing';
import type { PulseEvent } from '../types.js';

describe('the producer SDK on a real nats-server', () => {
  let names: PulseNames;
  let nc: NatsConnection;
  let dispose: () => Promise<void>;

  beforeEach(async () => {
    ({ names, nc, dispose } = await isolatedNats(2));
    await ensureStreams(await jetstreamManager(nc), names);
  });
  afterEach(() => dispose());

  async function stored(): Promise<Array<{ subject: string; events: PulseEvent[]; bytes: number }>> {
    const jsm = await jetstreamManager(nc);
    const messages = [];
    for (let seq = 1; seq <= (await jsm.streams.info(names.eventsStream)).state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(names.eventsStream, { seq });
      messages.push({ subject: m!.subject, events: m!.json<PulseEvent[]>(), bytes: m!.data.length });
    }
    return messages;
  }

  it('stores each event once, in messages of one type and partition under both caps, keeping their order', async () => {
    const events = Array.from({ length: 300 }, (_, i) => [pageViewed, productViewed, searchPerformed][i % 3]({ id: `e-${i}` }) as PulseEvent);
    const producer = new PulseProducer(jetstream(nc), { names, maxEventsPerMessage: 40, maxMessageBytes: 6000 });

    const report = await producer.publish(events);

    const messages = await stored();
    expect(report).toMatchObject({ events: 300, messages: messages.length, duplicateMessages: 0 });
    for (const m of messages) {
      expect(m.events.length).toBeLessThanOrEqual(40);
      expect(m.bytes).toBeLessThanOrEqual(6000);
      expect(new Set(m.events.map((e) => e.type))).toEqual(new Set([m.subject.split('.').slice(-3, -1).join('.')]));
      for (const e of m.events) expect(partitionOfEvent(e, 2)).toBe(partitionOf(m.subject));
    }
    const storedIds = messages.flatMap((m) => m.events.map((e) => e.id));
    expect([...storedIds].sort()).toEqual(events.map((e) => e.id).sort());
    for (const type of ['page.viewed', 'product.viewed', 'search.performed']) {
      for (const p of [0, 1]) {
        const sent = events.filter((e) => e.type === type && partitionOfEvent(e, 2) === p).map((e) => e.id);
        const kept = messages.filter((m) => m.subject === names.eventSubject(type as PulseEvent['type'], p)).flatMap((m) => m.events.map((e) => e.id));
        expect(kept).toEqual(sent);
      }
    }
  });

  it('refuses an event larger than a message may be, naming it, and publishes nothing', async () => {
    const producer = new PulseProducer(jetstream(nc), { names, maxMessageBytes: 2000 });
    const items = Array.from({ length: 40 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1, unitPriceMinor: 100, category: 'shoes' }));
    const wide = orderPlaced({ id: 'too-big', data: { items, totalMinor: 4000 } }) as PulseEvent;

    await expect(producer.publish([pageViewed({ id: 'fine' }), wide])).rejects.toThrow(/event too-big \(\d+ bytes\) is larger than a stream message may be \(2000\)/);
    expect((await jetstreamManager(nc).then((jsm) => jsm.streams.info(names.eventsStream))).state.messages).toBe(0);
  });
});
