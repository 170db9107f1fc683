import type { ProjectionName } from '../metrics.js';
import type { Projection } from '../projection.js';
import { checkout } from './checkout.js';
import { funnel } from './funnel.js';
import { inventory } from './inventory.js';
import { sales } from './sales.js';
import { traffic } from './traffic.js';

export const projections: Record<ProjectionName, Projection> = { sales, checkout, funnel, traffic, inventory };
export { normaliseQuery } from './traffic.js';
