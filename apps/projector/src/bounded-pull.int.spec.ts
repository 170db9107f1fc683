import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { BoundedPull, DeliveryGap } from './bounded-pull.js';
import { eventually, isolatedNats } from '../../../test/support/services.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pulling a partition whose messages range from one event to hundreds', () => {
  let nc: NatsConnection;
  let dispose: () => Promise<void>;
  let stream: string;
  let subject: string;

  beforeEach(async () => {
    const isolated = await isolatedNats(1);
    ({ nc, dispose } = isolated);
    stream = isolated.names.eventsStream;
    subject = `${isolated.names.root}.events.orders.placed.0`;
    await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`${isolated.names.root}.events.>`] });
  });
  afterEach(async () => dispose());

  // Sizes chosen so that a pull's remaining byte budget is often smaller than the next message: what
  // made consume({ max_bytes }) stall for half a minute at a time on nats-server 2.9.
  const sizeOf = (i: number) => (i % 10 === 0 ? 20_000 + ((i * 7919) % 100_000) : 100 + ((i * 104_729) % 5000));

  async function publishWhileTailing(count: number): Promise<void> {
    const js = jetstream(nc);
    for (let i = 0; i < count; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, count - i) }, (_, k) => {
          const h = headers();
          h.set('Nats-Msg-Id', `m${i + k}`);
          return js.publish(subject, new Uint8Array(sizeOf(i + k)), { headers: h });
        }),
      );
      await sleep(10);
    }
  }

  it('closed while its first pull is being made, stops reading then, not when that pull expires', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(stream, { durable_name: 'quiet', ack_policy: AckPolicy.All });
    const pull = new BoundedPull(await jetstream(nc).consumers.get(stream, 'quiet'), () => 1024 * 1024);
    const reading = (async () => {
      for await (const m of pull.messages()) m.ack();
      return 'ended';
    })();

    // At once, as a projector stopped right after it started does: the pull request is still on its way.
    await pull.close();

    // Its pull waits 30 s for messages that never come; a reader still in it at 10 s was not stopped.
    expect(await Promise.race([reading, sleep(10_000).then(() => 'still reading')])).toBe('ended');
  });

  it('delivers every message of a live tail, in order, and never holds more than its budget plus one message', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(stream, { durable_name: 'tail', ack_policy: AckPolicy.Explicit, max_ack_pending: 5000 });
    const consumer = await jetstream(nc).consumers.get(stream, 'tail');
    const budget = 256 * 1024;
    let held = 0;
    let mostHeld = 0;
    const received: JsMsg[] = [];
    const pull = new BoundedPull(consumer, () => budget - held);
    const reading = (async () => {
      for await (const m of pull.messages()) {
        received.push(m);
        held += m.data.byteLength;
        mostHeld = Math.max(mostHeld, held);
        // The caller works through what it holds, slower than it arrives at times.
        if (held > budget) {
          await sleep(5);
          held = 0;
        }
        m.ack();
      }
    })();

    await publishWhileTailing(1500);
    await eventually(() => (received.length === 1500 ? true : undefined), 20_000, 'every published message');
    await pull.close();
    await reading;

    expect(received.map((m) => m.seq)).toEqual(Array.from({ length: 1500 }, (_, i) => i + 1));
    expect(mostHeld).toBeLessThanOrEqual(budget + 120_000);
  });

  it('hands out every message a fetch received while its caller was busy, even when the fetch then fails', async () => {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.consumers.add(stream, { durable_name: 'busy', ack_policy: AckPolicy.All });
    const errors: Error[] = [];
    const pull = new BoundedPull(await js.consumers.get(stream, 'busy'), () => 1024 * 1024, (e) => errors.push(e));
    const messages = pull.messages();
    const firstPulled = messages.next();
    await js.publish(subject, new Uint8Array(100));
    const seqs = [(await firstPulled).value!.seq];
    // The caller is busy with its first message while the fetch receives 49 more...
    for (let i = 0; i < 49; i++) await js.publish(subject, new Uint8Array(100));
    await eventually(async () => ((await jsm.consumers.info(stream, 'busy')).delivered.consumer_seq === 50 ? true : undefined), 10_000, 'the fetch to receive all 50');
    await sleep(200);
    // ...and then fails (its consumer is gone), as a fetch whose heartbeats were missed does.
    await jsm.consumers.delete(stream, 'busy');
    await sleep(500);
    for (let i = 1; i < 50; i++) {
      const next = await Promise.race([messages.next(), sleep(5000).then(() => undefined)]);
      if (!next?.value) break;
      seqs.push(next.value.seq);
    }
    await pull.close();

    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('stops a durable reader at a delivery it never received, so the caller starts again from its checkpoint instead of acking past it', async () => {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.consumers.add(stream, { durable_name: 'gap', ack_policy: AckPolicy.All });
    const consumer = await js.consumers.get(stream, 'gap');
    for (let i = 0; i < 3; i++) await js.publish(subject, new Uint8Array(100));
    let free = 16 * 1024; // room for one message until the test gives more
    const pull = new BoundedPull(consumer, () => free, undefined, 0, true);
    const messages = pull.messages();
    expect((await messages.next()).value!.seq).toBe(1);
    free = 0;
    // Delivery 2 goes to a pull this reader does not see, as to a fetch given up after missed heartbeats.
    for await (const lost of await consumer.fetch({ max_messages: 1, expires: 2000 })) expect(lost.seq).toBe(2);
    free = 1024 * 1024;

    await expect(messages.next()).rejects.toThrow(DeliveryGap);
    await pull.close();
  });
});
