import { inject, Injectable } from '@angular/core';
import { Router } from '@angular/router';
import { RUNTIME_CONFIG } from '../config/runtime-config';
import { Session } from '../session/session';

/** An RFC 9457 problem from the API, or status 0 when the API could not be reached at all. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail || title);
  }
}

export type QueryValue = string | number | boolean | null | undefined | readonly string[];

/** Error text for a screen: the server's own `detail` where it gave one. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.detail || error.title;
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * The one place HTTP to the Pulse API happens: the Bearer token, the base URL and the mapping of
 * problem documents to ApiError. A 401 on a signed-in request means the token stopped being valid,
 * so the session ends here rather than in every screen.
 */
@Injectable({ providedIn: 'root' })
export class Api {
  private readonly base = `${inject(RUNTIME_CONFIG).apiUrl}/api/v1`;
  private readonly session = inject(Session);
  private readonly router = inject(Router);

  get origin(): string {
    return this.base.slice(0, -'/api/v1'.length) || location.origin;
  }

  get<T>(path: string, query: Record<string, QueryValue> = {}, options: { token?: string; signal?: AbortSignal } = {}): Promise<T> {
    return this.request<T>('GET', path, query, undefined, options);
  }

  post<T>(path: string, body: unknown, options: { signal?: AbortSignal } = {}): Promise<T> {
    return this.request<T>('POST', path, {}, body, options);
  }

  private async request<T>(method: string, path: string, query: Record<string, QueryValue>, body: unknown, options: { token?: string; signal?: AbortSignal }): Promise<T> {
    const token = options.token ?? this.session.token();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(this.base + path + queryString(query), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ApiError(0, 'unreachable', 'API unreachable', `The Pulse API at ${this.origin} could not be reached.`);
    }
    const text = await response.text();
    const parsed: unknown = text ? safeJson(text) : null;
    if (!response.ok) {
      const problem = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Partial<Record<'code' | 'title' | 'detail', unknown>>;
      const error = new ApiError(
        response.status,
        typeof problem.code === 'string' ? problem.code : `http_${response.status}`,
        typeof problem.title === 'string' ? problem.title : response.statusText || `HTTP ${response.status}`,
        typeof problem.detail === 'string' ? problem.detail : '',
      );
      if (response.status === 401 && options.token === undefined && this.session.token()) {
        this.session.end('The API no longer accepts your token (401). Sign in again.');
        void this.router.navigateByUrl('/sign-in');
      }
      throw error;
    }
    return parsed as T;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function queryString(query: Record<string, QueryValue>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
