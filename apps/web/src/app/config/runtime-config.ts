import { InjectionToken } from '@angular/core';

/** What the server that hosts the console tells it at start (`/config.json`). */
export interface RuntimeConfig {
  /** Origin of the Pulse API, without a trailing slash; empty means the console's own origin. */
  apiUrl: string;
}

export const RUNTIME_CONFIG = new InjectionToken<RuntimeConfig>('RUNTIME_CONFIG');

export async function loadRuntimeConfig(): Promise<RuntimeConfig> {
  let response: Response;
  try {
    response = await fetch('/config.json', { cache: 'no-store' });
  } catch {
    throw new Error('/config.json could not be fetched.');
  }
  if (!response.ok) throw new Error(`/config.json answered ${response.status}.`);
  const body: unknown = await response.json().catch(() => null);
  const apiUrl = typeof body === 'object' && body !== null ? (body as { apiUrl?: unknown }).apiUrl : undefined;
  if (typeof apiUrl !== 'string') throw new Error('/config.json must be an object with a string "apiUrl" ("" for the same origin).');
  if (apiUrl !== '' && !/^https?:\/\/[^/]+/.test(apiUrl)) throw new Error(`/config.json "apiUrl" must be an http(s) origin, got "${apiUrl}".`);
  return { apiUrl: apiUrl.replace(/\/+$/, '') };
}
