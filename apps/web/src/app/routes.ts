import type { Routes } from '@angular/router';
import { adminGuard, consoleGuard, signedOutGuard } from './session/access-guards';
import { SignInPage } from './session/sign-in-page';

// Screens load on first visit, so the sign-in page does not pay for uPlot and the admin code.
export const routes: Routes = [
  { path: 'sign-in', component: SignInPage, canActivate: [signedOutGuard], title: 'Sign in · Pulse' },
  {
    path: '',
    canActivate: [consoleGuard],
    children: [
      { path: '', pathMatch: 'full', loadComponent: () => import('./overview/overview-page').then((m) => m.OverviewPage), title: 'Live overview · Pulse' },
      { path: 'reconciliation', loadComponent: () => import('./reconciliation/reconciliation-page').then((m) => m.ReconciliationPage), title: 'Reconciliation · Pulse' },
      { path: 'operations', loadComponent: () => import('./operations/operations-page').then((m) => m.OperationsPage), title: 'Operations · Pulse' },
      { path: 'metric/:name', loadComponent: () => import('./metric-detail/metric-page').then((m) => m.MetricPage), title: 'Metric · Pulse' },
      { path: 'admin', canActivate: [adminGuard], loadComponent: () => import('./admin/admin-page').then((m) => m.AdminPage), title: 'Admin · Pulse' },
      { path: 'not-allowed', loadComponent: () => import('./session/not-allowed-page').then((m) => m.NotAllowedPage), title: 'Not allowed · Pulse' },
      { path: '**', loadComponent: () => import('./not-found-page').then((m) => m.NotFoundPage), title: 'Not found · Pulse' },
    ],
  },
];
