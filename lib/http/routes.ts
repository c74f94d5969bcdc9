/**
 * Every HTTP route, with the function that serves it. serverless.yml declares the same functions
 * (a test keeps the two in step); the catch-all uses this table to tell 405 from 404.
 */
export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  functionName: string;
  admin: boolean;
}

export const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/products', functionName: 'listProducts', admin: false },
  { method: 'POST', path: '/products', functionName: 'createProduct', admin: true },
  { method: 'GET', path: '/products/{id}', functionName: 'getProduct', admin: false },
  { method: 'PATCH', path: '/products/{id}', functionName: 'updateProduct', admin: true },
  { method: 'DELETE', path: '/products/{id}', functionName: 'deleteProduct', admin: true },
  { method: 'POST', path: '/orders', functionName: 'createOrder', admin: false },
  { method: 'GET', path: '/orders', functionName: 'listOrders', admin: true },
  { method: 'GET', path: '/orders/{id}', functionName: 'getOrder', admin: false },
  { method: 'POST', path: '/orders/{id}/cancel', functionName: 'cancelOrder', admin: true },
  { method: 'GET', path: '/health', functionName: 'health', admin: false },
  { method: 'GET', path: '/openapi.json', functionName: 'openapi', admin: false },
  { method: 'GET', path: '/docs', functionName: 'docs', admin: false },
  { method: 'GET', path: '/docs/{file}', functionName: 'docsAsset', admin: false },
];

// Exact paths only: API Gateway routes `/docs/` to the catch-all, and a 405 there would wrongly
// claim that GET is not allowed on a path that only differs by its trailing slash.
const matcher = (template: string): RegExp => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);

/** The methods served at `path`, empty when no route has that path. */
export function allowedMethods(path: string): string[] {
  return ROUTES.filter((r) => matcher(r.path).test(path)).map((r) => r.method);
}
