import type { ReadModels } from './read-models.js';

export interface StockQuery {
  sku?: string;
  warehouse?: string;
  status?: 'out' | 'low' | 'ok';
  limit: number;
  nowMs: number;
}

/** Below this many units a SKU is low, where the warehouse system sends no reorder point. */
const DEFAULT_REORDER_POINT = 10;

/**
 * Current stock per SKU and warehouse: the latest level report plus every movement after it. Outflow
 * (reservations and write-offs) over the last six hours gives the rate at which stock drains, hence the
 * time to stockout; add-to-carts while a SKU is out estimate the demand being lost.
 */
export async function queryStock(models: ReadModels, q: StockQuery) {
  const [inventory, traffic] = [await models.servedVersion('inventory'), await models.servedVersion('traffic')];
  const since = new Date(q.nowMs - 6 * 3_600_000);
  const lastHour = new Date(q.nowMs - 3_600_000);
  const { rows } = await models.pool.query<{ sku: string; warehouse: string; available: string; reported_at: Date | null; reorder_point: string | null; outflow: string; cart_adds: string | null }>(
    `WITH levels AS (
       -- Rows are per partition: the latest report of a SKU in a warehouse is the newest of them.
       SELECT DISTINCT ON (sku, warehouse) sku, warehouse, reported_at, available, reorder_point
       FROM "${inventory.schema}".stock_levels ORDER BY sku, warehouse, reported_at DESC
     ), keys AS (
       SELECT sku, warehouse FROM levels
       UNION SELECT DISTINCT sku, warehouse FROM "${inventory.schema}".stock_movements
     ), current AS (
       SELECT k.sku, k.warehouse, l.reported_at, l.reorder_point,
              coalesce(l.available, 0) + coalesce((SELECT sum(m.delta) FROM "${inventory.schema}".stock_movements m
                WHERE m.sku = k.sku AND m.warehouse = k.warehouse AND (l.reported_at IS NULL OR m.at > l.reported_at)), 0) AS available,
              coalesce((SELECT -sum(m.delta) FROM "${inventory.schema}".stock_movements m
                WHERE m.sku = k.sku AND m.warehouse = k.warehouse AND m.delta < 0 AND m.at >= $1), 0) AS outflow
       FROM keys k LEFT JOIN levels l USING (sku, warehouse)
       WHERE ($3::text IS NULL OR k.sku = $3) AND ($4::text IS NULL OR k.warehouse = $4)
     ), demand AS (
       SELECT dim_key::jsonb ->> 'sku' AS sku, sum(value) AS cart_adds
       FROM "${traffic.schema}".facts_1m WHERE metric = 'sku_cart_adds' AND bucket >= $2 GROUP BY 1
     )
     SELECT c.*, d.cart_adds FROM current c LEFT JOIN demand d USING (sku)`,
    [since, lastHour, q.sku ?? null, q.warehouse ?? null],
  );
  const result = rows.map((r) => {
    const available = Number(r.available);
    const unitsPerHour = Number(r.outflow) / 6;
    const reorderPoint = r.reorder_point === null ? DEFAULT_REORDER_POINT : Number(r.reorder_point);
    const hoursToStockout = available <= 0 ? 0 : unitsPerHour > 0 ? available / unitsPerHour : null;
    const status: 'out' | 'low' | 'ok' = available <= 0 ? 'out' : available <= reorderPoint || (hoursToStockout !== null && hoursToStockout < 24) ? 'low' : 'ok';
    return {
      sku: r.sku,
      warehouse: r.warehouse,
      available,
      reportedAt: r.reported_at?.toISOString() ?? null,
      reorderPoint,
      unitsPerHour,
      hoursToStockout,
      sellThrough: unitsPerHour * 6 + Math.max(available, 0) > 0 ? (unitsPerHour * 6) / (unitsPerHour * 6 + Math.max(available, 0)) : null,
      status,
      // Carts filled in the last hour for a SKU with nothing left: demand the shop cannot serve now.
      lostUnitsPerHour: status === 'out' ? Number(r.cart_adds ?? 0) : 0,
    };
  });
  const order = { out: 0, low: 1, ok: 2 };
  return {
    rows: result
      .filter((r) => !q.status || r.status === q.status)
      .sort((a, b) => order[a.status] - order[b.status] || (a.hoursToStockout ?? Infinity) - (b.hoursToStockout ?? Infinity) || a.sku.localeCompare(b.sku))
      .slice(0, q.limit),
  };
}
