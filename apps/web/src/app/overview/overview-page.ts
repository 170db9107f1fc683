import { ChangeDetectionStrategy, Component, computed, inject, resource } from '@angular/core';
import { Api } from '../api/api-client';
import type { BreakdownResponse } from '../api/contract';
import { MetricCatalogue } from '../catalogue/metric-catalogue';
import { LiveMetricPanel } from '../charts/live-metric-panel';
import { Display } from '../display/display';
import { Preferences } from '../display/preferences';
import { Freshness } from '../live/freshness';
import { LiveSocket } from '../live/live-socket';
import { NowFeed } from './now-feed';
import { NowTile } from './now-tile';

@Component({
  selector: 'pulse-overview-page',
  imports: [NowTile, LiveMetricPanel],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <header class="page-header">
      <h1>Live overview</h1>
      <label>Currency
        <select data-testid="currency" [value]="preferences.currency()" (change)="preferences.currency.set($any($event.target).value)">
          @for (c of currencies(); track c) {
            <option [value]="c" [selected]="c === preferences.currency()">{{ c }}</option>
          }
        </select>
      </label>
    </header>

    @if (freshness.state() !== 'live') {
      <div class="stale-banner" role="alert" data-testid="stale-banner">
        <strong>Stale{{ freshness.staleSince() ? ' since ' + display.time(freshness.staleSince()) : '' }}:</strong>
        {{ freshness.state() === 'offline' ? 'the live connection is down, reconnecting.' : 'no update arrived for a while; the pipeline or the connection may be stuck.' }}
        @if (feed.source() === 'http' && feed.receivedAt(); as at) {
          Tiles below were fetched over HTTP at {{ display.time(at) }}.
        } @else {
          The numbers below are the last ones received, not current.
        }
      </div>
    }
    @if (feed.error(); as e) {
      <p class="error" role="alert" data-testid="tiles-error">{{ e }}</p>
    }
    @if (catalogue.error(); as e) {
      <p class="error" role="alert">The metric catalogue could not be loaded.</p>
    }

    <section class="tiles" aria-label="Headline numbers" [attr.aria-busy]="!feed.snapshot()">
      @if (feed.snapshot(); as now) {
        @for (tile of now.tiles; track tile.key) {
          <pulse-now-tile [tile]="tile" [currency]="preferences.currency()" [higherIsBetter]="catalogue.metric(tile.metric)?.higherIsBetter" [unit]="catalogue.metric(tile.metric)?.unit" [stale]="freshness.state() !== 'live'" />
        }
      } @else {
        <p class="muted">Waiting for the first numbers…</p>
      }
    </section>
    @if (feed.snapshot(); as now) {
      <p class="muted small">As of {{ display.time(now.at) }} · watermark {{ display.time(now.watermark) }} · revision <span class="num">{{ now.revision }}</span></p>
    }

    <pulse-live-metric-panel [chooseMetric]="true" metric="orders" />
  `,
})
export class OverviewPage {
  protected readonly catalogue = inject(MetricCatalogue);
  protected readonly preferences = inject(Preferences);
  protected readonly freshness = inject(Freshness);
  protected readonly display = inject(Display);
  protected readonly socket = inject(LiveSocket);
  private readonly api = inject(Api);

  protected readonly feed = new NowFeed(() => this.preferences.currency());

  /** The currencies orders came in today: the contract has no list of them, the data does. */
  private readonly seenCurrencies = resource({
    loader: ({ abortSignal }) =>
      this.api.get<BreakdownResponse>('/breakdown', { metric: 'orders', by: 'currency', from: new Date(this.display.startOfToday()).toISOString(), to: new Date().toISOString(), limit: 20 }, { signal: abortSignal }),
  });

  protected readonly currencies = computed(() => {
    const seen = this.seenCurrencies.hasValue() ? (this.seenCurrencies.value()?.rows ?? []).map((r) => r.dims['currency']).filter((c): c is string => !!c) : [];
    return [...new Set([this.preferences.currency(), ...seen])].sort();
  });
}
