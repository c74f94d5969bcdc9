import { ORDER_ROUTES, purgeIdempotencyKeysFunction } from './orders/routes';
import { PRODUCT_ROUTES } from './products/routes';
import { migrateFunction, notFoundFunction, SYSTEM_ROUTES } from './system/routes';
import type { FunctionDeclaration, RouteDeclaration } from './http/route';

/**
 * Every route and every Lambda function, as declared next to their domains. The OpenAPI document,
 * the 405/`Allow` table below and the `functions:` section of serverless.yml (deploy/serverless-functions.ts)
 * are made from these lists; a new route is a declaration in its domain's routes.ts (plus its
 * handler), listed there in the domain's array.
 */
export const ROUTES: readonly RouteDeclaration[] = [...PRODUCT_ROUTES, ...ORDER_ROUTES, ...SYSTEM_ROUTES];

/** Every Lambda function in deploy order: the routes, then the functions that are not routes. */
export const FUNCTIONS: ReadonlyArray<RouteDeclaration | FunctionDeclaration> = [
  ...PRODUCT_ROUTES,
  ...ORDER_ROUTES,
  purgeIdempotencyKeysFunction,
  ...SYSTEM_ROUTES,
  notFoundFunction,
  migrateFunction,
];

// Exact paths only: API Gateway routes `/docs/` to the catch-all, and a 405 there would wrongly
// claim that GET is not allowed on a path that only differs by its trailing slash.
const matcher = (template: string): RegExp => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);

/** The methods served at `path`, empty when no route has that path. */
export function allowedMethods(path: string): string[] {
  return ROUTES.filter((r) => matcher(r.path).test(path)).map((r) => r.method);
}
