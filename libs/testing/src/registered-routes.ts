import type { INestApplication } from '@nestjs/common';

interface RouterLayer {
  readonly route?: { readonly path: string | string[]; readonly methods: Record<string, boolean> };
}

/**
 * Every route the application's HTTP server really serves, as `METHOD /path` (Express's own router table,
 * after Nest and Swagger registered theirs), sorted. A test built on it notices an endpoint it has no row for.
 */
export function registeredRoutes(app: INestApplication): string[] {
  const express = app.getHttpAdapter().getInstance() as { router?: { stack: RouterLayer[] } };
  const stack = express.router?.stack;
  if (stack === undefined) throw new Error('registeredRoutes: not an Express 5 application');
  const routes = new Set<string>();
  for (const { route } of stack) {
    if (route === undefined) continue;
    for (const path of Array.isArray(route.path) ? route.path : [route.path]) {
      for (const [method, served] of Object.entries(route.methods)) {
        if (served && method !== '_all') routes.add(`${method.toUpperCase()} ${path}`);
      }
    }
  }
  return [...routes].sort();
}
