import { Random, Weighted } from './random.js';

// The shop the simulator pretends to be: products with prices and a popularity skew, the markets it
// sells to and the warehouses it ships from. Built from a fixed seed, not the run's seed, so every
// run sells the same products under the same SKUs and dashboards stay comparable between runs.

const CATALOGUE_SEED = 0x5eed;

export const categories = [
  ['shoes', 'SHO', 3999, 14999],
  ['shirts', 'SHI', 1499, 5999],
  ['trousers', 'TRO', 2999, 8999],
  ['dresses', 'DRE', 2999, 12999],
  ['jackets', 'JAC', 5999, 24999],
  ['accessories', 'ACC', 499, 3999],
  ['bags', 'BAG', 1999, 19999],
  ['sportswear', 'SPO', 1999, 7999],
  ['electronics', 'ELE', 1999, 49999],
  ['home-decor', 'HOM', 999, 9999],
  ['beauty', 'BEA', 599, 4999],
  ['toys', 'TOY', 999, 6999],
] as const;

export interface Product {
  sku: string;
  category: string;
  /** Price in each currency of `currencies`, integer minor units, same index. */
  prices: number[];
  /** Least reorder point and purchase quantity per warehouse; the model raises both with demand. */
  reorderPoint: number;
  restockQuantity: number;
}

export interface Market {
  country: string;
  currency: string;
  /** Index into the warehouse list the order is shipped from first. */
  warehouse: number;
}

export const currencies = ['EUR', 'GBP', 'CHF', 'SEK', 'PLN'] as const;
/** Fixed conversion from EUR, per mille: prices are list prices, not live exchange rates. */
const perMilleOfEur = [1000, 860, 960, 11500, 4300];

export const defaultWarehouses = ['BER', 'AMS', 'MAD'] as const;

const markets: ReadonlyArray<readonly [Market, number]> = [
  [{ country: 'DE', currency: 'EUR', warehouse: 0 }, 30],
  [{ country: 'FR', currency: 'EUR', warehouse: 1 }, 14],
  [{ country: 'NL', currency: 'EUR', warehouse: 1 }, 9],
  [{ country: 'ES', currency: 'EUR', warehouse: 2 }, 8],
  [{ country: 'IT', currency: 'EUR', warehouse: 2 }, 8],
  [{ country: 'AT', currency: 'EUR', warehouse: 0 }, 5],
  [{ country: 'BE', currency: 'EUR', warehouse: 1 }, 4],
  [{ country: 'GB', currency: 'GBP', warehouse: 1 }, 9],
  [{ country: 'CH', currency: 'CHF', warehouse: 0 }, 4],
  [{ country: 'SE', currency: 'SEK', warehouse: 1 }, 4],
  [{ country: 'PL', currency: 'PLN', warehouse: 0 }, 5],
];
export const marketDistribution = new Weighted(markets);

export function currencyIndex(currency: string): number {
  return currencies.indexOf(currency as (typeof currencies)[number]);
}

/** A list price ending in 99, converted from EUR. */
function listPrice(eurMinor: number, currency: number): number {
  return Math.max(99, Math.round((eurMinor * perMilleOfEur[currency]) / 100_000) * 100 - 1);
}

export interface Catalogue {
  products: Product[];
  /** Draws a product index, the first products being the most popular (a Zipf-like skew). */
  popularity: Weighted<number>;
}

export function buildCatalogue(size: number): Catalogue {
  if (!Number.isInteger(size) || size < 3) throw new Error(`the catalogue needs at least 3 products, got ${size}`);
  const random = new Random(CATALOGUE_SEED);
  const products: Product[] = [];
  for (let i = 0; i < size; i++) {
    const [category, prefix, low, high] = random.pick(categories);
    const eur = listPrice(random.int(low, high), 0);
    // Popular products sell faster, so the shop keeps more of them.
    const rankFactor = 1 + Math.floor(20 / (1 + i / 4));
    products.push({
      sku: `${prefix}-${String(1000 + i).padStart(4, '0')}`,
      category,
      prices: currencies.map((_, c) => listPrice(eur, c)),
      reorderPoint: 5 * rankFactor,
      restockQuantity: 20 * rankFactor,
    });
  }
  const popularity = new Weighted(products.map((_, i) => [i, 1 / Math.pow(i + 1, 1.1)] as const));
  return { products, popularity };
}
