import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { partitionOfEvent } from '@pulse/contracts/sdk';
import { orderPlaced } from '@pulse/contracts/testing';
import type { Page, WebSocket } from 'playwright-core';
import { eventually } from '../../../test/support/services.js';
import { ConsoleStack, SimulatedShop, TOKENS } from './console-stack.js';

// Issue #6, "Done when": the console against the whole running stack (projector, API, the built console
// behind serve.mjs) in real headless Chromium. The tests share one stack, a shop that has been trading
// for half an hour, and run in order: one operator tab stays on the live overview, as on a wall screen.

const screenshots = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const tile = (key: string) => `[data-testid="tile-${key}"] [data-testid="tile-value"]`;
const iso = (ms: number) => new Date(ms).toISOString();

const order = (id: string, timeMs: number, totalMinor = 2500) =>
  orderPlaced({ id, source: 'e2e/console', time: iso(timeMs), data: { orderId: id, totalMinor, items: [{ sku: 'SKU-1', quantity: 1, unitPriceMinor: totalMinor, category: 'shoes' }] } });

/** The number in a formatted text: "€20,980.94" -> 20980.94. */
const numberIn = (text: string | null) => Number((text ?? '').replace(/[^0-9.-]/g, ''));

/** The few browser globals the page-side functions use (this Node project has no DOM types). */
interface InPage {
  document: { body: unknown; querySelector(selector: string): { textContent: string | null } | null };
  MutationObserver: new (callback: () => void) => { observe(target: unknown, options: Record<string, boolean>): void };
  scrollTo(x: number, y: number): void;
  changes: Record<string, number>;
}

/**
 * Notes, in the page, when each watched element's text first differs from what it shows now: the time
 * of the DOM change itself, not of the test polling for it. The returned function waits for all of them.
 */
async function watchChanges(page: Page, selectors: Record<string, string>): Promise<() => Promise<Record<string, number>>> {
  await page.evaluate((watched) => {
    // Runs in the page, where `globalThis` is its window.
    const w = globalThis as unknown as InPage;
    const read = (selector: string) => w.document.querySelector(selector)?.textContent?.trim() ?? null;
    const baseline = Object.fromEntries(Object.entries(watched).map(([key, selector]) => [key, read(selector)]));
    const changes: Record<string, number> = {};
    w.changes = changes;
    new w.MutationObserver(() => {
      const at = Date.now();
      for (const [key, selector] of Object.entries(watched)) if (!(key in changes) && read(selector) !== baseline[key]) changes[key] = at;
    }).observe(w.document.body, { subtree: true, childList: true, characterData: true });
  }, selectors);
  const changes = () => page.evaluate(() => (globalThis as unknown as InPage).changes);
  return async () => {
    const keys = Object.keys(selectors);
    await page.waitForFunction((keys) => keys.every((k) => k in (globalThis as unknown as InPage).changes), keys, { timeout: 5000 }).catch(async () => {
      throw new Error(`within 5 s only these changed: ${JSON.stringify(await changes())}`);
    });
    return changes();
  };
}

const chartPixels = (page: Page) => page.locator('[data-testid="live-chart"] canvas').first().evaluate((canvas) => (canvas as unknown as { toDataURL(): string }).toDataURL());

/** The Socket.IO events a page receives on /live, with when they came. */
function socketEvents(page: Page): Array<{ at: number; event: string }> {
  const seen: Array<{ at: number; event: string }> = [];
  page.on('websocket', (ws: WebSocket) =>
    ws.on('framereceived', ({ payload }) => {
      // An event packet of the namespace: 42/live,["name",...]
      const match = /^42\/live,\d*\["([^"]+)"/.exec(payload.toString());
      if (match) seen.push({ at: Date.now(), event: match[1] });
    }),
  );
  return seen;
}

interface SeriesBody {
  watermark: string;
  series: Array<{ points: Array<{ t: string; value: number | null; revisions: number }> }>;
}

describe('the console, end to end in Chromium against the running stack', () => {
  let stack: ConsoleStack;
  let shop: SimulatedShop;
  let wall: Page;
  let wallEvents: Array<{ at: number; event: string }>;

  beforeAll(async () => {
    stack = await ConsoleStack.start({ partitions: 2, allowedLatenessMs: 10_000, pushIntervalMs: 100 });
    // Half an hour of trading, busier in the last five minutes, sent as a shop's backend would have sent
    // it: a request every few seconds. (Ingestion groups a request's events by type, so a request that
    // spanned more than the allowed lateness would make its own events late.)
    const now = Date.now();
    shop = new SimulatedShop(now - 30 * 60_000);
    for (let t = now - 30 * 60_000 + 5000; t < now + 5000; t += 5000) await stack.publish(shop.advance(Math.min(t, now), t > now - 5 * 60_000 ? 12 : 2));
    wall = await stack.newPage();
    wallEvents = socketEvents(wall);
    await mkdir(screenshots, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  afterEach(() => {
    expect(stack?.pageErrors ?? []).toEqual([]);
  });

  it('keeps admin actions from an operator: no admin link, and /admin shows the not-allowed page', async () => {
    await stack.signIn(wall, TOKENS.operator);
    expect(await wall.getByTestId('session-user').textContent()).toContain('operator');
    await wall.getByTestId('nav-overview').waitFor();
    expect(await wall.getByTestId('nav-admin').count()).toBe(0);

    await wall.goto(`${stack.webUrl}/admin`);
    await wall.getByTestId('not-allowed').waitFor();
    expect(new URL(wall.url()).pathname).toBe('/admin');
    expect(await wall.getByTestId('nav-admin').count()).toBe(0);
    expect(await wall.getByTestId('rebuild-start').count()).toBe(0);

    await wall.getByTestId('nav-overview').click();
    await wall.locator(tile('orders_today')).waitFor();
  });

  it('marks a bucket revised by a late event, and its correction history shows the late event and the change', async () => {
    await wall.getByTestId('live-chart').waitFor();
    // The shop trading up to now keeps every partition's watermark at now - 10 s: a minute-old bucket is final.
    const now = Date.now();
    await stack.publish(shop.advance(now, 12));
    await stack.committed();

    // A minute-old second with no revision near it, so its marker stands alone and can be clicked.
    const { series, watermark } = await stack.get<SeriesBody>(`/api/v1/series?metric=orders&grain=1s&from=${iso(now - 120_000)}&to=${iso(now - 20_000)}`);
    const points = new Map((series[0]?.points ?? []).map((p) => [Date.parse(p.t), p]));
    const revisedNear = (t: number) => [-4, -3, -2, -1, 0, 1, 2, 3, 4].some((s) => (points.get(t + s * 1000)?.revisions ?? 0) > 0);
    let bucket = Math.floor(now / 1000) * 1000 - 60_000;
    while (revisedNear(bucket)) bucket -= 1000;
    // The lowest watermark of all partitions is past the bucket, so whichever partition the event lands in finds it final.
    expect(Date.parse(watermark)).toBeGreaterThanOrEqual(bucket + 1000);
    const valueBefore = points.get(bucket)?.value ?? 0;
    const late = order('late-1', bucket + 500, 4200);

    const acceptedAt = await stack.publish([late]);
    const marker = wall.locator(`[data-testid="revision-marker"][data-bucket="${iso(bucket)}"]`);
    await marker.waitFor();
    console.info(`revision marker on the chart ${Date.now() - acceptedAt} ms after the late event's 202`);
    expect(await marker.getAttribute('aria-label')).toMatch(/revised 1 time by 1 late event: show correction history$/);
    expect(await marker.textContent()).toBe('1');

    await marker.click();
    const history = wall.getByTestId('correction-history');
    await history.getByTestId('correction-row').waitFor();
    expect(await history.textContent()).toContain('1s bucket starting');
    expect(numberIn(await history.getByTestId('correction-value').textContent())).toBe(valueBefore + 1);
    const facts = Object.fromEntries(
      await history.locator('.facts > div').evaluateAll((rows) => rows.map((r) => [r.querySelector('dt')?.textContent?.trim(), r.querySelector('dd')?.textContent?.trim()])),
    ) as Record<string, string>;
    expect(facts).toMatchObject({ State: 'final', Revisions: '1', 'Late events': '1', 'Before corrections': String(valueBefore) });
    // One correction: recorded, 1 late event, moved the value by +1, the watermark then, its partition.
    expect(await history.getByTestId('correction-row').count()).toBe(1);
    const cells = (await history.getByTestId('correction-row').locator('td').allTextContents()).map((c) => c.trim());
    expect(cells).toEqual([expect.any(String), '1', '+1', expect.any(String), String(partitionOfEvent(late, stack.names.partitions))]);

    await history.getByTestId('correction-history-close').click();
    await history.waitFor({ state: 'detached' });
  });

  it('moves the tiles and the live chart within a second of events being accepted', async () => {
    // Tiles are pushed at most once a second: measured from a quiet pipeline, no push is held back.
    await stack.quiet();
    // Not timed: "Orders, last minute" and "Revenue, last minute". The API counts the whole seconds
    // before now into them and pushes tiles only when a read model changes, so an order placed in the
    // current second reaches those two tiles only with the next change after that second has ended.
    const tiles = ['orders_today', 'revenue_today'];
    const shown = async () => Object.fromEntries(await Promise.all(tiles.map(async (k) => [k, numberIn(await wall.locator(tile(k)).textContent())])));
    const before = await shown();
    const pixels = await chartPixels(wall);
    const changed = await watchChanges(wall, { ...Object.fromEntries(tiles.map((k) => [k, tile(k)])), chart: '[data-testid="chart-revision"]' });

    const now = Date.now();
    const acceptedAt = await stack.publish([order('fast-1', now, 1500), order('fast-2', now, 2500)]);
    const latency = Object.fromEntries(Object.entries(await changed()).map(([k, t]) => [k, t - acceptedAt]));
    console.info(`from the 202 to the DOM, ms: ${JSON.stringify(latency)}`);
    expect(Object.keys(latency).sort()).toEqual(['chart', 'orders_today', 'revenue_today']);
    for (const [key, ms] of Object.entries(latency)) expect([key, ms < 1000]).toEqual([key, true]);

    await eventually(async () => {
      const after = await shown();
      return after.orders_today === before.orders_today + 2 && after.revenue_today === before.revenue_today + 40 ? true : undefined;
    }, 5000, 'the tiles to count both orders');
    // The chart's revision moved with its buckets, and the bars were drawn again.
    expect(await chartPixels(wall)).not.toBe(pixels);
    expect(await wall.getByTestId('connection-state').textContent()).toBe('live');
  });

  it('shows the shop trading on the live overview (screenshot)', async () => {
    // The shop trades on up to now, then live for forty seconds: the history sent at start arrived late
    // (and the chart marks it so), the live part arrives on time but for the simulator's late events.
    await stack.publish(shop.advance(Date.now(), 12));
    for (let second = 0; second < 40; second++) {
      await new Promise((r) => setTimeout(r, 1000));
      await stack.publish(shop.advance(Date.now(), 12));
    }
    await stack.quiet();
    expect(numberIn(await wall.locator(tile('orders_today')).textContent())).toBeGreaterThan(50);
    expect(await wall.getByTestId('stale-banner').count()).toBe(0);
    await wall.evaluate(() => (globalThis as unknown as InPage).scrollTo(0, 0));
    await wall.screenshot({ path: `${screenshots}overview.png`, fullPage: true });
  }, 90_000);

  it('lets an admin rebuild a projection, follow its progress and see the new version served (screenshot)', async () => {
    const admin = await stack.newPage();
    try {
      await stack.signIn(admin, TOKENS.admin);
      await admin.getByTestId('nav-admin').click();
      const served = admin.getByTestId('served-version-sales');
      await served.waitFor();
      expect(await served.textContent()).toBe('1');

      await admin.getByTestId('rebuild-projection').selectOption('sales');
      await admin.getByTestId('rebuild-mode').selectOption('full');
      await admin.getByTestId('rebuild-reason').fill('Backfill after the revenue metric fix');
      await admin.getByTestId('rebuild-start').click();
      const progress = admin.getByTestId('rebuild-progress');
      await progress.waitFor();
      expect(await progress.getAttribute('aria-valuenow')).toMatch(/^\d+$/);

      await eventually(async () => ((await served.textContent()) === '2' ? true : undefined), 30_000, 'sales to serve version 2');
      await admin.getByTestId('rebuild-done').waitFor();
      expect(await progress.getAttribute('data-status')).toBe('completed');
      expect(await progress.getAttribute('aria-valuenow')).toBe('100');
      // The counts came through: every stored event was replayed into version 2.
      const processed = /([\d,]+) processed/.exec((await admin.getByTestId('rebuild-status').textContent()) ?? '');
      expect(numberIn(processed?.[1] ?? '0')).toBeGreaterThan(3000);
      await admin.screenshot({ path: `${screenshots}admin.png`, fullPage: true });
    } finally {
      await admin.close();
    }
  });

  it('keeps a quiet shop live: heartbeats, and tiles whose windows move with time', async () => {
    // Nothing is published for eleven seconds: the connection must still read as live.
    const quietSince = Date.now();
    const states = new Set<string>();
    await eventually(async () => {
      states.add((await wall.getByTestId('connection-state').textContent()) ?? '');
      return Date.now() - quietSince > 11_000 ? true : undefined;
    }, 20_000, 'eleven quiet seconds');
    expect([...states]).toEqual(['live']);
    expect(wallEvents.filter((e) => e.event === 'heartbeat' && e.at > quietSince).length).toBeGreaterThanOrEqual(2);
    // "Last minute" moves on without events: the overview is recomputed every couple of seconds.
    expect(wallEvents.filter((e) => e.event === 'now' && e.at > quietSince).length).toBeGreaterThanOrEqual(3);
    expect(await wall.getByTestId('stale-banner').count()).toBe(0);
  });

  it('shows the stale state when the API dies, and recovers when it is back', async () => {
    await stack.killApi();
    await eventually(async () => ((await wall.getByTestId('connection-state').textContent()) === 'offline' ? true : undefined), 5000, 'the console to notice');
    await wall.getByTestId('stale-banner').waitFor({ timeout: 5000 });
    expect(await wall.locator('.tile.stale').count()).toBe(await wall.locator('.tile').count());

    await stack.startApi();
    await eventually(async () => ((await wall.getByTestId('connection-state').textContent()) === 'live' ? true : undefined), 15_000, 'the console to reconnect');
    await wall.getByTestId('stale-banner').waitFor({ state: 'detached' });

    const before = numberIn(await wall.locator(tile('orders_today')).textContent());
    await stack.publish([order('after-restart-1', Date.now()), order('after-restart-2', Date.now())]);
    await eventually(async () => (numberIn(await wall.locator(tile('orders_today')).textContent()) === before + 2 ? true : undefined), 5000, 'the tiles to update again');
  });
});
