// Exactness: the read models' totals against the simulator's ledger (each valid event counted once,
// as the producers had it accepted). Markers are counted apart: they are in the read models but not
// in the ledger, and the XTS currency keeps them separable wherever a metric has a currency.
import { MARKER_CURRENCY } from './markers.mjs';

async function servedSchemas(client) {
  const { rows } = await client.query(`SELECT projection, version FROM pulse.projection_versions WHERE status = 'live'`);
  return Object.fromEntries(rows.map((r) => [r.projection, `rm_${r.projection}_v${r.version}`]));
}

/**
 * Compares every total both sides know. `expected` is the load generator's ledger summary;
 * `markers` how many markers the API accepted; `accepted` all events it accepted (duplicates included).
 */
export async function compareTotals(client, { expected, markers, acceptedEvents, duplicatesAccepted }) {
  const schema = await servedSchemas(client);
  const total = async (projection, metric, where = '') => {
    const { rows } = await client.query(`SELECT coalesce(sum(value), 0)::bigint AS v FROM ${schema[projection]}.facts_1m WHERE metric = $1 ${where}`, [metric]);
    return Number(rows[0].v);
  };
  const byCurrency = async (projection, metric) => {
    const { rows } = await client.query(
      `SELECT dim_key::jsonb ->> 'currency' AS currency, sum(value)::bigint AS v FROM ${schema[projection]}.facts_1m WHERE metric = $1 GROUP BY 1 ORDER BY 1`,
      [metric],
    );
    return Object.fromEntries(rows.map((r) => [r.currency, Number(r.v)]));
  };
  const notMarker = `AND (dim_key::jsonb ->> 'currency') IS DISTINCT FROM '${MARKER_CURRENCY}'`;
  const isMarker = `AND (dim_key::jsonb ->> 'currency') = '${MARKER_CURRENCY}'`;
  const checkpoints = (await client.query(`SELECT sum(events)::bigint AS events, sum(duplicates)::bigint AS duplicates, sum(dead_letters)::bigint AS dead FROM pulse.checkpoints WHERE pipeline = 'live'`)).rows[0];

  const comparisons = [];
  const compare = (what, readModel, ledger) => comparisons.push({ what, readModel, ledger, match: readModel === ledger });
  // For the record, not part of exactness: a duplicate that lands alone in a stream message repeats an
  // earlier message's Nats-Msg-Id, so JetStream drops it before the projector sees it. The projector's
  // duplicate count is therefore at most what the API accepted.
  const notes = [
    { what: 'duplicates the projector dropped (of duplicates the API accepted)', projector: Number(checkpoints.duplicates), accepted: duplicatesAccepted },
    { what: 'events the projector received (of events the API accepted, markers included)', projector: Number(checkpoints.events) + Number(checkpoints.duplicates) + Number(checkpoints.dead), accepted: acceptedEvents + markers },
  ];
  compare('events projected (unique, markers included)', Number(checkpoints.events), expected.events + markers);
  compare('events refused by the projector (dead letters)', Number(checkpoints.dead), 0);
  compare('markers (orders in XTS)', await total('sales', 'orders', isMarker), markers);
  compare('orders', await total('sales', 'orders', notMarker), expected.orders);
  compare('units', await total('sales', 'units', notMarker), expected.units);
  const revenue = await byCurrency('sales', 'revenue');
  for (const c of new Set([...Object.keys(revenue), ...Object.keys(expected.revenueMinor)])) {
    if (c === MARKER_CURRENCY) continue;
    compare(`revenue ${c} (minor units)`, revenue[c] ?? 0, expected.revenueMinor[c] ?? 0);
  }
  const category = await byCurrency('sales', 'category_revenue');
  for (const c of new Set([...Object.keys(category), ...Object.keys(expected.categoryRevenueMinor)])) {
    if (c === MARKER_CURRENCY) continue;
    compare(`line-item revenue ${c} (minor units)`, category[c] ?? 0, expected.categoryRevenueMinor[c] ?? 0);
  }
  compare('sessions', await total('funnel', 'sessions'), expected.sessions);
  compare('page views', await total('traffic', 'page_views'), expected.pageViews);
  compare('product views', await total('funnel', 'product_views'), expected.productViews);
  compare('cart adds', await total('funnel', 'cart_adds'), expected.cartAdds);
  compare('checkouts started', await total('checkout', 'checkouts_started'), expected.checkoutsStarted);
  compare('checkout failures', await total('checkout', 'checkout_failures'), expected.checkoutsFailed);
  compare('payments captured', await total('checkout', 'payments_captured'), expected.paymentsSucceeded);
  compare('payments failed', await total('checkout', 'payment_failures'), expected.paymentsFailed);
  compare('searches', await total('traffic', 'searches'), expected.searches);
  compare('zero-result searches', await total('traffic', 'zero_result_searches'), expected.zeroResultSearches);
  compare('cancellations', await total('sales', 'cancellations'), expected.cancellations);
  compare('refunds', await total('sales', 'refunds'), expected.refunds);
  const refunded = await byCurrency('sales', 'refunded_amount');
  for (const c of new Set([...Object.keys(refunded), ...Object.keys(expected.refundedMinor)])) compare(`refunded ${c} (minor units)`, refunded[c] ?? 0, expected.refundedMinor[c] ?? 0);
  compare('units received into stock', await total('inventory', 'stock_received'), expected.receivedUnits);
  // The funnel's order step has no currency: there the markers are part of the expectation.
  compare('funnel orders (markers included)', await total('funnel', 'funnel_orders'), expected.orders + markers);
  return { totalsExact: comparisons.every((c) => c.match), comparisons, notes };
}
