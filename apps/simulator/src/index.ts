// The traffic simulator: a deterministic model of a shop's traffic, the ledger of what a run should
// total, and a driver that delivers the traffic to Pulse through the producer SDK or the HTTP API.
export { buildCatalogue, currencies, defaultWarehouses, type Catalogue, type Product } from './catalogue.js';
export { TrafficDriver, type Delivery, type DriverOptions, type DriverStats, type Transport } from './driver.js';
export { DeliveryError, HttpTransport, retryAfterMs, type HttpTransportOptions } from './http-transport.js';
export { demoIncidents, incidentKinds, type DemoScheduleOptions, type Incident, type IncidentKind } from './incidents.js';
export { Ledger, type Counts, type ItemTotals, type LedgerSnapshot, type MinuteTotals, type SalesTotals } from './ledger.js';
export { malformedVariants, type MalformedEvent, type MalformedVariant } from './malformed-events.js';
export { SdkTransport, type SdkTransportOptions } from './sdk-transport.js';
export { TrafficModel, type Emission, type EmissionKind, type TrafficOptions } from './traffic-model.js';
