import { z } from 'zod';
import { type FunctionDeclaration, ifNoneMatchHeader, NOT_MODIFIED, route } from '../http/route';
import { docsAssetParams } from './docs-page';

/**
 * The operational routes (health, the API document and its reference page), the catch-all and the
 * migrate function, one declaration each (lib/http/route.ts says what a declaration holds).
 */

export const healthResponse = z
  .object({
    status: z.enum(['ok', 'degraded']),
    database: z.enum(['ok', 'unreachable']),
  })
  .meta({ id: 'Health' });

const openApiResponse = z
  .object({ openapi: z.string().meta({ example: '3.1.0' }) })
  .loose()
  .meta({ description: 'This document.' });

export const healthRoute = route({
  method: 'GET',
  path: '/health',
  functionName: 'health',
  lambda: { handler: 'functions/system/health', memorySize: 256, timeout: 6 },
  admin: false,
  tag: 'Operations',
  summary: 'Health check',
  description: 'Answers 503 with `"database": "unreachable"` when the database does not answer in time.',
  responses: [
    { status: 200, description: 'The service and its database are up.', schema: healthResponse },
    { status: 503, description: 'The database does not answer.', schema: healthResponse },
  ],
  errors: [],
  usesDatabase: false,
});

export const openApiRoute = route({
  method: 'GET',
  path: '/openapi.json',
  functionName: 'openapi',
  lambda: { handler: 'functions/system/openapi', memorySize: 512, timeout: 6 },
  admin: false,
  tag: 'Operations',
  summary: 'This OpenAPI document',
  responses: [{ status: 200, description: 'OpenAPI 3.1 document.', schema: openApiResponse, headers: ['ETag'] }],
  errors: [],
  usesDatabase: false,
});

export const docsRoute = route({
  method: 'GET',
  path: '/docs',
  functionName: 'docs',
  lambda: { handler: 'functions/system/docs', memorySize: 256, timeout: 6 },
  admin: false,
  tag: 'Operations',
  summary: 'API reference page',
  description: 'An HTML page rendering this document; every script, style and font is served by this service.',
  responses: [{ status: 200, description: 'HTML page.', contentTypes: ['text/html; charset=utf-8'] }],
  errors: [],
  usesDatabase: false,
});

export const docsAssetRoute = route({
  method: 'GET',
  path: '/docs/{file}',
  functionName: 'docsAsset',
  lambda: { handler: 'functions/system/docs-asset', memorySize: 256, timeout: 6 },
  admin: false,
  params: docsAssetParams,
  otherHeaders: ifNoneMatchHeader,
  tag: 'Operations',
  summary: 'A script or stylesheet of the reference page',
  responses: [
    {
      status: 200,
      description: 'The file (gzip-encoded when the client accepts it).',
      contentTypes: ['text/javascript; charset=utf-8', 'text/css; charset=utf-8'],
      headers: ['ETag', 'Cache-Control'],
    },
    { ...NOT_MODIFIED, headers: ['ETag', 'Cache-Control'] },
  ],
  errors: ['route_not_found'],
  usesDatabase: false,
});

export const SYSTEM_ROUTES = [healthRoute, openApiRoute, docsRoute, docsAssetRoute] as const;

/** Every request no route matches: 405 with `Allow` for a known path, else 404 route_not_found. */
export const notFoundFunction: FunctionDeclaration = {
  functionName: 'notFound',
  lambda: { handler: 'functions/system/not-found', memorySize: 256, timeout: 3 },
  trigger: { catchAll: true },
};

/** Applies migrations: invoked once after each deploy (DEPLOY.md), not an HTTP route. */
export const migrateFunction: FunctionDeclaration = {
  functionName: 'migrate',
  lambda: { handler: 'functions/system/migrate', memorySize: 512, timeout: 300 },
  trigger: { invoke: true },
};
