import { provideZonelessChangeDetection } from '@angular/core';
import { bootstrapApplication } from '@angular/platform-browser';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { loadRuntimeConfig, RUNTIME_CONFIG } from './app/config/runtime-config';
import { routes } from './app/routes';
import { Shell } from './app/shell';

// Configuration is read once, before anything renders: a console pointed at the wrong API should say so
// at once rather than fail request by request.
loadRuntimeConfig()
  .then((config) =>
    bootstrapApplication(Shell, {
      providers: [
        provideZonelessChangeDetection(),
        provideRouter(routes, withComponentInputBinding()),
        { provide: RUNTIME_CONFIG, useValue: config },
      ],
    }),
  )
  .catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    document.body.innerHTML = '';
    const p = document.createElement('p');
    p.setAttribute('role', 'alert');
    p.className = 'fatal';
    p.textContent = `The Pulse console could not start: ${message}`;
    document.body.append(p);
  });
