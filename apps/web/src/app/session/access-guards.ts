import { inject } from '@angular/core';
import { RedirectCommand, Router, type CanActivateFn } from '@angular/router';
import { Api, ApiError } from '../api/api-client';
import type { SessionInfo } from '../api/contract';
import { mayUseConsole, Session } from './session';

/** After a reload the token is still in sessionStorage but who it belongs to must be asked again. */
async function currentUser(session: Session, api: Api): Promise<SessionInfo | null> {
  const token = session.token();
  if (!token) return null;
  if (session.user()) return session.user();
  try {
    const user = await api.get<SessionInfo>('/session', {}, { token });
    session.begin(token, user);
    return user;
  } catch (error) {
    session.end(error instanceof ApiError && error.status === 401 ? 'Your token is no longer accepted. Sign in again.' : `Could not check your token: ${error instanceof Error ? error.message : error}`);
    return null;
  }
}

/** Operators and admins see the console; anyone else goes to sign-in. */
export const consoleGuard: CanActivateFn = async (_route, state) => {
  const session = inject(Session);
  const router = inject(Router);
  const user = await currentUser(session, inject(Api));
  if (mayUseConsole(user)) return true;
  if (user) session.end(`The token "${user.name}" has the role ${user.role}; the console needs an operator or admin token.`);
  return router.createUrlTree(['/sign-in'], { queryParams: state.url === '/' ? {} : { returnUrl: state.url } });
};

/** Admin routes: an operator stays on the address they typed and is told they may not go there. */
export const adminGuard: CanActivateFn = async () => {
  const session = inject(Session);
  const router = inject(Router);
  const user = await currentUser(session, inject(Api));
  if (user?.role === 'admin') return true;
  if (!user) return router.createUrlTree(['/sign-in']);
  return new RedirectCommand(router.createUrlTree(['/not-allowed']), { skipLocationChange: true });
};

/** Signed-in users skip the sign-in page. */
export const signedOutGuard: CanActivateFn = () => {
  const session = inject(Session);
  return mayUseConsole(session.user()) ? inject(Router).createUrlTree(['/']) : true;
};
