import type { Grain } from './time.js';

/**
 * The metric catalogue: every number Pulse shows, defined once. The API serves it, the console
 * and the query builder render from it, and the projections emit exactly these base metrics.
 *
 * Base metrics are sums kept in the read models. Derived metrics are ratios of two base metrics of
 * the same projection, computed per bucket at query time (so they stay exact under late data).
 */
export type Unit = 'count' | 'minor_units' | 'ratio';

export type Dimension =
  | 'channel'
  | 'country'
  | 'payment_method'
  | 'currency'
  | 'category'
  | 'reason'
  | 'step'
  | 'error_code'
  | 'page_type'
  | 'sku'
  | 'query';

export type ProjectionName = 'sales' | 'checkout' | 'funnel' | 'traffic' | 'inventory';
export const PROJECTIONS: readonly ProjectionName[] = ['sales', 'checkout', 'funnel', 'traffic', 'inventory'];

interface MetricBase {
  name: string;
  title: string;
  description: string;
  unit: Unit;
  projection: ProjectionName;
  /** Dimensions a query may group or filter by. 1s buckets keep only `currency`; the others start at 1m. */
  dimensions: readonly Dimension[];
  grains: readonly Grain[];
  /** Whether more is better, for colouring changes. */
  higherIsBetter?: boolean;
}

export interface BaseMetric extends MetricBase {
  kind: 'sum';
}

export interface DerivedMetric extends MetricBase {
  kind: 'ratio';
  numerator: string;
  denominator: string;
}

export type MetricDefinition = BaseMetric | DerivedMetric;

const ALL: readonly Grain[] = ['1s', '1m', '1h', '1d'];
const MINUTE_UP: readonly Grain[] = ['1m', '1h', '1d'];
const ORDER_DIMS = ['channel', 'country', 'payment_method', 'currency'] as const;

const sum = (m: Omit<BaseMetric, 'kind' | 'grains'> & { grains?: readonly Grain[] }): BaseMetric => ({ kind: 'sum', grains: ALL, ...m });
const ratio = (m: Omit<DerivedMetric, 'kind' | 'unit' | 'grains'> & { grains?: readonly Grain[]; unit?: Unit }): DerivedMetric => ({ kind: 'ratio', unit: 'ratio', grains: ALL, ...m });

export const METRICS: readonly MetricDefinition[] = [
  // sales
  sum({ name: 'orders', title: 'Orders', description: 'Orders placed.', unit: 'count', projection: 'sales', dimensions: ORDER_DIMS, higherIsBetter: true }),
  sum({ name: 'revenue', title: 'Revenue', description: 'Gross order value placed, in minor units of the currency (before cancellations and refunds).', unit: 'minor_units', projection: 'sales', dimensions: ORDER_DIMS, higherIsBetter: true }),
  sum({ name: 'units', title: 'Units sold', description: 'Item quantities in placed orders.', unit: 'count', projection: 'sales', dimensions: ORDER_DIMS, higherIsBetter: true }),
  ratio({ name: 'average_order_value', title: 'Average order value', description: 'Revenue per order, in minor units of the currency.', unit: 'minor_units', numerator: 'revenue', denominator: 'orders', projection: 'sales', dimensions: ORDER_DIMS, higherIsBetter: true }),
  sum({ name: 'category_revenue', title: 'Revenue by category', description: 'Line-item value placed, by product category.', unit: 'minor_units', projection: 'sales', dimensions: ['category', 'currency', 'channel', 'country'], higherIsBetter: true }),
  sum({ name: 'category_units', title: 'Units by category', description: 'Line-item quantities placed, by product category.', unit: 'count', projection: 'sales', dimensions: ['category', 'channel', 'country'], higherIsBetter: true }),
  sum({ name: 'cancellations', title: 'Cancellations', description: 'Orders cancelled.', unit: 'count', projection: 'sales', dimensions: ['currency', 'reason'], higherIsBetter: false }),
  sum({ name: 'cancelled_amount', title: 'Cancelled value', description: 'Value of cancelled orders.', unit: 'minor_units', projection: 'sales', dimensions: ['currency', 'reason'], higherIsBetter: false }),
  sum({ name: 'refunds', title: 'Refunds', description: 'Refunds issued.', unit: 'count', projection: 'sales', dimensions: ['currency', 'reason'], higherIsBetter: false }),
  sum({ name: 'refunded_amount', title: 'Refunded value', description: 'Money refunded.', unit: 'minor_units', projection: 'sales', dimensions: ['currency', 'reason'], higherIsBetter: false }),

  // checkout health
  sum({ name: 'checkouts_started', title: 'Checkouts started', description: 'Visitors who entered the checkout.', unit: 'count', projection: 'checkout', dimensions: ['currency'] }),
  sum({ name: 'checkouts_completed', title: 'Checkouts completed', description: 'Checkouts that ended in an order.', unit: 'count', projection: 'checkout', dimensions: ['channel', 'payment_method'], higherIsBetter: true }),
  sum({ name: 'checkout_failures', title: 'Checkout failures', description: 'Checkout steps that failed with an error shown to the visitor.', unit: 'count', projection: 'checkout', dimensions: ['step', 'error_code'], higherIsBetter: false }),
  sum({ name: 'payments_captured', title: 'Payments captured', description: 'Successful payments.', unit: 'count', projection: 'checkout', dimensions: ['payment_method', 'currency'], higherIsBetter: true }),
  sum({ name: 'payment_attempts', title: 'Payment attempts', description: 'Payments captured plus payments failed.', unit: 'count', projection: 'checkout', dimensions: ['payment_method'] }),
  sum({ name: 'payment_failures', title: 'Payment failures', description: 'Failed payment attempts.', unit: 'count', projection: 'checkout', dimensions: ['payment_method', 'reason'], higherIsBetter: false }),
  ratio({ name: 'checkout_failure_rate', title: 'Checkout failure rate', description: 'Checkout failures per checkout started.', numerator: 'checkout_failures', denominator: 'checkouts_started', projection: 'checkout', dimensions: [], higherIsBetter: false }),
  ratio({ name: 'checkout_completion_rate', title: 'Checkout completion', description: 'Orders per checkout started.', numerator: 'checkouts_completed', denominator: 'checkouts_started', projection: 'checkout', dimensions: [], higherIsBetter: true }),
  ratio({ name: 'payment_failure_rate', title: 'Payment failure rate', description: 'Failed payments per payment attempt.', numerator: 'payment_failures', denominator: 'payment_attempts', projection: 'checkout', dimensions: ['payment_method'], higherIsBetter: false }),

  // funnel
  sum({ name: 'sessions', title: 'Sessions', description: 'Browsing sessions started.', unit: 'count', projection: 'funnel', dimensions: ['channel', 'country'], higherIsBetter: true }),
  sum({ name: 'product_views', title: 'Product views', description: 'Product detail pages viewed.', unit: 'count', projection: 'funnel', dimensions: [], higherIsBetter: true }),
  sum({ name: 'cart_adds', title: 'Add to cart', description: 'Products added to a cart.', unit: 'count', projection: 'funnel', dimensions: [], higherIsBetter: true }),
  sum({ name: 'funnel_checkouts', title: 'Checkouts', description: 'Checkouts started (funnel step).', unit: 'count', projection: 'funnel', dimensions: [], higherIsBetter: true }),
  sum({ name: 'funnel_orders', title: 'Orders', description: 'Orders placed (funnel step).', unit: 'count', projection: 'funnel', dimensions: [], higherIsBetter: true }),
  ratio({ name: 'conversion_rate', title: 'Conversion rate', description: 'Orders per session.', numerator: 'funnel_orders', denominator: 'sessions', projection: 'funnel', dimensions: [], higherIsBetter: true }),
  ratio({ name: 'view_to_cart_rate', title: 'View to cart', description: 'Add-to-carts per product view.', numerator: 'cart_adds', denominator: 'product_views', projection: 'funnel', dimensions: [], higherIsBetter: true }),
  ratio({ name: 'cart_to_checkout_rate', title: 'Cart to checkout', description: 'Checkouts started per add-to-cart.', numerator: 'funnel_checkouts', denominator: 'cart_adds', projection: 'funnel', dimensions: [], higherIsBetter: true }),
  ratio({ name: 'checkout_to_order_rate', title: 'Checkout to order', description: 'Orders per checkout started.', numerator: 'funnel_orders', denominator: 'funnel_checkouts', projection: 'funnel', dimensions: [], higherIsBetter: true }),

  // traffic
  sum({ name: 'page_views', title: 'Page views', description: 'Pages shown.', unit: 'count', projection: 'traffic', dimensions: ['page_type'], higherIsBetter: true }),
  sum({ name: 'sku_views', title: 'Views by product', description: 'Product views by SKU (top products).', unit: 'count', projection: 'traffic', dimensions: ['sku', 'category'], grains: MINUTE_UP, higherIsBetter: true }),
  sum({ name: 'sku_cart_adds', title: 'Add to cart by product', description: 'Add-to-carts by SKU.', unit: 'count', projection: 'traffic', dimensions: ['sku'], grains: MINUTE_UP, higherIsBetter: true }),
  sum({ name: 'searches', title: 'Searches', description: 'Catalogue searches, by normalised query.', unit: 'count', projection: 'traffic', dimensions: ['query'], higherIsBetter: true }),
  sum({ name: 'zero_result_searches', title: 'Searches without results', description: 'Searches that found nothing: demand the catalogue does not meet.', unit: 'count', projection: 'traffic', dimensions: ['query'], higherIsBetter: false }),

  // inventory flows (current stock lives in its own tables)
  sum({ name: 'sku_units_ordered', title: 'Units ordered by product', description: 'Units ordered per SKU: the demand that drains stock.', unit: 'count', projection: 'inventory', dimensions: ['sku'], grains: MINUTE_UP }),
  sum({ name: 'stock_received', title: 'Units received', description: 'Units received into warehouses.', unit: 'count', projection: 'inventory', dimensions: ['sku'], grains: MINUTE_UP }),
];

const byName = new Map(METRICS.map((m) => [m.name, m]));

export function metricNamed(name: string): MetricDefinition | undefined {
  return byName.get(name);
}

export const SECOND_DIMENSIONS: readonly Dimension[] = ['currency'];

/** Dimensions usable at a grain: 1s buckets keep only the currency. */
export function dimensionsAt(metric: MetricDefinition, grain: Grain): readonly Dimension[] {
  return grain === '1s' ? metric.dimensions.filter((d) => SECOND_DIMENSIONS.includes(d)) : metric.dimensions;
}

/** The base metrics a query needs to answer `metric` (itself, or the two sides of a ratio). */
export function baseMetricsOf(metric: MetricDefinition): string[] {
  return metric.kind === 'sum' ? [metric.name] : [metric.numerator, metric.denominator];
}

export function metricsOf(projection: ProjectionName): MetricDefinition[] {
  return METRICS.filter((m) => m.projection === projection);
}
