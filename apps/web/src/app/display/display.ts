import { inject, Injectable } from '@angular/core';
import type { Unit, WireTime } from '../api/contract';
import { Preferences } from './preferences';

/** Epoch ms of an API time (ISO-8601 string, or already ms). */
export function toMs(time: WireTime | null | undefined): number | null {
  if (time === null || time === undefined) return null;
  if (typeof time === 'number') return time;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? null : ms;
}

const fractionDigitsCache = new Map<string, number>();
/** Minor units per major unit differ by currency (EUR 2, JPY 0, ...); Intl knows them. */
export function currencyDigits(currency: string): number {
  let digits = fractionDigitsCache.get(currency);
  if (digits === undefined) {
    try {
      digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      digits = 2;
    }
    fractionDigitsCache.set(currency, digits);
  }
  return digits;
}

/**
 * A metric value as people read it. Money comes in integer minor units and is shown in the currency
 * it was asked in; with no currency (a sum across currencies) it stays in minor units, labelled, so
 * a mixed total never passes for euros.
 */
export function formatValue(value: number | null | undefined, unit: Unit, currency: string | null, compact = false): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  switch (unit) {
    case 'ratio':
      return new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: Math.abs(value) < 0.1 ? 2 : 1, maximumFractionDigits: Math.abs(value) < 0.1 ? 2 : 1 }).format(value);
    case 'minor_units':
      if (!currency) return `${new Intl.NumberFormat(undefined, { notation: compact ? 'compact' : 'standard', maximumFractionDigits: 0 }).format(value)} minor units`;
      return new Intl.NumberFormat(undefined, {
        style: 'currency',
        currency,
        notation: compact ? 'compact' : 'standard',
        maximumFractionDigits: compact ? 1 : currencyDigits(currency),
      }).format(value / 10 ** currencyDigits(currency));
    default:
      return new Intl.NumberFormat(undefined, { notation: compact ? 'compact' : 'standard', maximumFractionDigits: Number.isInteger(value) ? 0 : 2 }).format(value);
  }
}

/** A change in value with its sign, e.g. "+€12.00" or "-3", for corrections. */
export function formatDelta(delta: number, unit: Unit, currency: string | null): string {
  const text = formatValue(Math.abs(delta), unit, currency);
  return delta > 0 ? `+${text}` : delta < 0 ? `-${text}` : text;
}

export type Tone = 'good' | 'bad' | 'neutral';

export interface Change {
  text: string;
  direction: 'up' | 'down' | 'flat';
  tone: Tone;
}

/** Relative change against a baseline, coloured by whether more of this metric is good news. */
export function changeAgainst(value: number | null, baseline: number | null, higherIsBetter: boolean | undefined): Change | null {
  if (value === null || baseline === null || baseline === undefined) return null;
  if (baseline === 0) return value === 0 ? { text: '0%', direction: 'flat', tone: 'neutral' } : { text: 'new', direction: value > 0 ? 'up' : 'down', tone: 'neutral' };
  const ratio = (value - baseline) / Math.abs(baseline);
  const direction = Math.abs(ratio) < 0.0005 ? 'flat' : ratio > 0 ? 'up' : 'down';
  const tone: Tone = direction === 'flat' || higherIsBetter === undefined ? 'neutral' : (direction === 'up') === higherIsBetter ? 'good' : 'bad';
  const text = new Intl.NumberFormat(undefined, { style: 'percent', signDisplay: 'exceptZero', maximumFractionDigits: 1 }).format(ratio);
  return { text, direction, tone };
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** "N ms ago" while it is fresh, then seconds and minutes: the figure an operator checks at a glance. */
export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms ago`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  return `${Math.floor(ms / 3_600_000)} h ago`;
}

export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : new Intl.NumberFormat().format(value);
}

export function formatPercent(value: number | null | undefined): string {
  return formatValue(value ?? null, 'ratio', null);
}

/** Times in the user's zone or in UTC (the toggle in the header); read in templates so they follow it. */
@Injectable({ providedIn: 'root' })
export class Display {
  private readonly preferences = inject(Preferences);

  time(time: WireTime | null | undefined): string {
    return this.format(time, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  dateTime(time: WireTime | null | undefined): string {
    return this.format(time, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  /** Start of today in the chosen zone, as epoch ms. */
  startOfToday(now = Date.now()): number {
    const date = new Date(now);
    if (this.preferences.utc()) return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
    return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
  }

  get zoneLabel(): string {
    return this.preferences.utc() ? 'UTC' : Intl.DateTimeFormat().resolvedOptions().timeZone;
  }

  private format(time: WireTime | null | undefined, options: Intl.DateTimeFormatOptions): string {
    const ms = toMs(time);
    if (ms === null) return '–';
    const utc = this.preferences.utc();
    const text = new Intl.DateTimeFormat(undefined, { ...options, hourCycle: 'h23', timeZone: utc ? 'UTC' : undefined }).format(ms);
    return utc ? `${text} UTC` : text;
  }
}
