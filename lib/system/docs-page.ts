/**
 * The API reference page: Swagger UI over GET /openapi.json. Scripts and styles come from
 * /docs/{file} (lib/system/docs-assets.ts); the Content-Security-Policy lets the browser load nothing
 * from any other host, and the validator badge (which would call validator.swagger.io) is off.
 */
import { z } from 'zod';

export const DOCS_ASSET_BASE = '/docs/';
export const DOCS_ASSET_FILES = ['swagger-ui.css', 'swagger-ui-bundle.js', 'docs-init.js'] as const;

/** `/docs/{file}`: any other name is a 404 route_not_found, like any unknown path. */
export const docsAssetParams = z
  .object({
    file: z.string().meta({ description: `One of ${DOCS_ASSET_FILES.join(', ')}.`, example: 'swagger-ui.css' }),
  })
  .strict();

export const DOCS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Shop API reference</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="${DOCS_ASSET_BASE}swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${DOCS_ASSET_BASE}swagger-ui-bundle.js"></script>
    <script src="${DOCS_ASSET_BASE}docs-init.js"></script>
  </body>
</html>
`;

export const DOCS_INIT_JS = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    validatorUrl: null,
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true
  });
});
`;

export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // Swagger UI sets style attributes from script.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
