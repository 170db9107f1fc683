import { effect, Injectable, signal } from '@angular/core';

const KEY = 'pulse.preferences';

interface Stored {
  utc: boolean;
  wall: boolean;
  currency: string;
}

/**
 * How this browser shows things: time zone, wall-display mode, the currency money tiles are asked in.
 * Kept in localStorage so a wall display keeps its settings across restarts. `?wall=1` / `?wall=0` in
 * the address turns wall mode on or off (so a kiosk can be pointed at a URL).
 */
@Injectable({ providedIn: 'root' })
export class Preferences {
  private readonly stored = read();
  readonly utc = signal(this.stored.utc);
  readonly wall = signal(wallFromAddress() ?? this.stored.wall);
  readonly currency = signal(this.stored.currency);

  constructor() {
    effect(() => {
      const value: Stored = { utc: this.utc(), wall: this.wall(), currency: this.currency() };
      localStorage.setItem(KEY, JSON.stringify(value));
      document.documentElement.classList.toggle('wall', value.wall);
    });
  }
}

function read(): Stored {
  const fallback: Stored = { utc: false, wall: false, currency: 'EUR' };
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<Stored> | null;
    return {
      utc: typeof value?.utc === 'boolean' ? value.utc : fallback.utc,
      wall: typeof value?.wall === 'boolean' ? value.wall : fallback.wall,
      currency: typeof value?.currency === 'string' && /^[A-Z]{3}$/.test(value.currency) ? value.currency : fallback.currency,
    };
  } catch {
    return fallback;
  }
}

function wallFromAddress(): boolean | null {
  const wall = new URLSearchParams(location.search).get('wall');
  return wall === null ? null : wall === '1' || wall === 'true';
}
