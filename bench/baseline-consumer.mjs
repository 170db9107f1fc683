// The baseline's consumer, a process of its own as the projector is: a durable pull consumer per
// partition, configured as the projector's, that acks each message and does nothing else with it.
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { PulseNames } from '@pulse/contracts';
import { EVENT_COUNT_HEADER } from '@pulse/contracts/sdk';

const { natsUrl, root, partitions } = JSON.parse(process.argv[2]);
const names = new PulseNames(root, partitions);
const nc = await connect({ servers: natsUrl, name: 'pulse-bench-baseline-consumer', noAsyncTraces: true });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);

let events = 0;
let messages = 0;
let lastAt = 0;
let expected = Infinity;
let reported = false;

const report = () => process.send({ type: 'progress', events, messages, lastAt });
setInterval(report, 200).unref();

function check() {
  if (!reported && messages >= expected) {
    reported = true;
    process.send({ type: 'done', events, messages, lastAt });
  }
}

const consumers = [];
for (let p = 0; p < names.partitions; p++) {
  const durable = `baseline-p${p}`;
  await jsm.consumers.add(names.eventsStream, {
    durable_name: durable,
    filter_subject: names.partitionFilter(p),
    ack_policy: AckPolicy.All,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(15_000),
    max_ack_pending: 400,
    max_deliver: -1,
  });
  consumers.push(await js.consumers.get(names.eventsStream, durable));
}

process.on('message', (msg) => {
  if (msg.type === 'expect') {
    expected = msg.messages;
    check();
  }
});

process.send({ type: 'ready' });

await Promise.all(
  consumers.map(async (consumer) => {
    const iterator = await consumer.consume({ max_messages: 256 });
    let mine = 0;
    for await (const m of iterator) {
      // The event count travels in a header: no parsing, that is the point of the baseline.
      events += Number(m.headers?.get(EVENT_COUNT_HEADER) || 1);
      messages++;
      // As the projector acks: once per batch (AckAll), here every 50 messages of the partition.
      if (++mine % 50 === 0) m.ack();
      lastAt = Date.now();
      check();
    }
  }),
);
