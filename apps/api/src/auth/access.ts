import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { API_CONFIG, type ApiConfig, type ApiToken, type Role } from '../config.js';
import { Problem } from '../http/problem.js';

export interface Principal {
  name: string;
  role: Role;
}

/** What each role may do: admins may read too; producers only write events. */
const GRANTS: Record<Role, readonly Role[]> = { producer: ['producer'], operator: ['operator'], admin: ['operator', 'admin'] };

const digest = (token: string) => createHash('sha256').update(token).digest();

/** Tokens are compared by digest in constant time, so a wrong token takes as long as a right one. */
export class TokenRegistry {
  private readonly entries: Array<{ digest: Buffer; principal: Principal }>;

  constructor(tokens: readonly ApiToken[]) {
    this.entries = tokens.map((t) => ({ digest: digest(t.token), principal: { name: t.name, role: t.role } }));
  }

  identify(token: string | undefined): Principal | undefined {
    if (!token) return undefined;
    const d = digest(token);
    let found: Principal | undefined;
    for (const e of this.entries) if (timingSafeEqual(e.digest, d)) found = e.principal;
    return found;
  }

  /** 401 without a known token, 403 when its role does not grant `needed`. */
  authorize(token: string | undefined, needed: Role): Principal {
    const principal = this.identify(token);
    if (!principal) throw new Problem(401, 'unauthenticated', token ? 'the token is not valid' : 'send a token: Authorization: Bearer <token>', {}, { 'WWW-Authenticate': 'Bearer' });
    if (!GRANTS[principal.role].includes(needed)) throw new Problem(403, 'forbidden', `the ${principal.role} token "${principal.name}" may not do this; it needs the ${needed} role`);
    return principal;
  }
}

export function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

export const REQUIRED_ROLE = 'pulse:role';
/** The role a route needs. Every controller route must say; a route without it is refused. */
export const Requires = (role: Role | 'any' | 'public') => SetMetadata(REQUIRED_ROLE, role);

@Injectable()
export class AccessGuard implements CanActivate {
  private readonly registry: TokenRegistry;

  constructor(
    private readonly reflector: Reflector,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    this.registry = new TokenRegistry(config.tokens);
  }

  canActivate(context: ExecutionContext): boolean {
    // Sockets are authorised once, at the handshake (LiveGateway), with the same registry.
    if (context.getType() !== 'http') return true;
    const needed = this.reflector.getAllAndOverride<Role | 'any' | 'public' | undefined>(REQUIRED_ROLE, [context.getHandler(), context.getClass()]);
    if (needed === 'public') return true;
    if (!needed) throw new Problem(403, 'forbidden', 'this route declares no role');
    const req = context.switchToHttp().getRequest<Request>();
    const token = bearer(req.headers.authorization);
    const principal = needed === 'any' ? this.anyRole(token) : this.registry.authorize(token, needed);
    context.switchToHttp().getResponse<Response>().locals.principal = principal;
    return true;
  }

  private anyRole(token: string | undefined): Principal {
    const principal = this.registry.identify(token);
    if (!principal) throw new Problem(401, 'unauthenticated', token ? 'the token is not valid' : 'send a token: Authorization: Bearer <token>', {}, { 'WWW-Authenticate': 'Bearer' });
    return principal;
  }
}

