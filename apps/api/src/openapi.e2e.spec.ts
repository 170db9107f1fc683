import { Ajv } from 'ajv';
import formatsPlugin from 'ajv-formats';
import { caughtUp } from '../../../test/support/projector.js';
import { mixedTraffic } from '../../../test/support/traffic.js';
import { recentMinute, useClock } from '@pulse/contracts/testing';
import { auth, TOKENS } from './testing/api.js';
import { startPulse, type RunningPulse } from './testing/pulse.js';

interface Operation {
  summary?: string;
  security?: unknown[];
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: object }>;
  responses: Record<string, { content?: { 'application/json'?: { schema?: object } } }>;
}

const addFormats = formatsPlugin as unknown as typeof formatsPlugin.default;

describe('the OpenAPI document, checked against the running API', () => {
  let pulse: RunningPulse;
  let url: string;
  let doc: { openapi: string; paths: Record<string, Record<string, Operation>> };

  beforeAll(async () => {
    useClock(recentMinute(20));
    pulse = await startPulse();
    ({ url } = pulse);
    const events = mixedTraffic(3000, { minutes: 15 });
    for (let i = 0; i < events.length; i += 500) {
      const res = await fetch(`${url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(TOKENS.producer) }, body: JSON.stringify(events.slice(i, i + 500)) });
      expect(res.status).toBe(202);
    }
    await caughtUp(pulse.nc, pulse.names);
    doc = (await (await fetch(`${url}/api/docs-json`)).json()) as typeof doc;
  }, 60_000);
  afterAll(() => pulse.stop());

  it('is served, with a UI at /api/docs', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    const ui = await fetch(`${url}/api/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toContain('swagger');
  });

  it('documents every route with a summary, its security, its errors and a response schema', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
    expect(operations.map((o) => `${o.method.toUpperCase()} ${o.path}`).sort()).toEqual(
      [
        'GET /api/v1/breakdown', 'GET /api/v1/corrections', 'GET /api/v1/funnel', 'GET /api/v1/inventory/stock', 'GET /api/v1/metrics', 'GET /api/v1/now', 'GET /api/v1/reconciliation',
        'GET /api/v1/series', 'GET /api/v1/session', 'POST /api/v1/events',
        'GET /api/v1/admin/projections', 'POST /api/v1/admin/rebuilds', 'GET /api/v1/admin/rebuilds', 'GET /api/v1/admin/rebuilds/{id}', 'POST /api/v1/admin/rebuilds/{id}/cancel',
        'POST /api/v1/admin/replays', 'GET /api/v1/admin/dead-letters', 'GET /api/v1/admin/dead-letters/{seq}', 'POST /api/v1/admin/dead-letters/resubmit',
      ].sort(),
    );
    for (const { op } of operations) {
      expect(op.summary?.length).toBeGreaterThan(10);
      expect(op.security).toEqual([{ bearer: [] }]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['400', '401']));
      const success = Object.keys(op.responses).find((s) => s.startsWith('2'))!;
      expect(op.responses[success].content?.['application/json']?.schema).toBeDefined();
    }
  });

  // Example requests for each read route; every documented GET must be here, so a new route needs one.
  const examples = (): Record<string, string> => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    return {
      '/api/v1/session': '',
      '/api/v1/metrics': '',
      '/api/v1/series': `metric=revenue&grain=1m&from=${from}&to=${to}&groupBy=channel&filter=currency:EUR`,
      '/api/v1/breakdown': `metric=sku_views&by=sku&from=${from}&to=${to}&limit=5`,
      '/api/v1/now': '',
      '/api/v1/funnel': `from=${from}&to=${to}`,
      '/api/v1/inventory/stock': 'limit=20',
      '/api/v1/corrections': `metric=revenue&grain=1m&bucket=${recentMinute(10)}`,
      '/api/v1/reconciliation': '',
      '/api/v1/admin/projections': '',
      '/api/v1/admin/rebuilds': 'limit=5',
      '/api/v1/admin/dead-letters': 'limit=5',
    };
  };

  it('answers every read route with a body that matches its documented schema', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const requests = examples();
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (!methods.get) continue;
      const token = path.startsWith('/api/v1/admin/') ? TOKENS.admin : TOKENS.operator;
      if (path.includes('{')) {
        // Routes of one record: an unknown one is a documented 404 problem.
        const res = await fetch(`${url}${path.replace(/\{\w+\}/, '999999')}`, { headers: auth(token) });
        expect({ path, status: res.status }).toEqual({ path, status: 404 });
        expect(Object.keys(methods.get.responses)).toContain('404');
        continue;
      }
      expect(requests).toHaveProperty([path]);
      const res = await fetch(`${url}${path}?${requests[path]}`, { headers: auth(token) });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      const body: unknown = await res.json();
      const validate = ajv.compile(methods.get.responses['200'].content!['application/json']!.schema!);
      expect({ path, errors: validate(body) ? null : validate.errors }).toEqual({ path, errors: null });
    }
  });

  it('lists the parameters each read route validates', () => {
    const series = doc.paths['/api/v1/series'].get;
    expect(series.parameters?.filter((p) => p.required).map((p) => p.name).sort()).toEqual(['from', 'grain', 'metric', 'to']);
  });
});
