import { endpoint } from '../../lib/http/handler';
import { DOCS_CSP, DOCS_HTML } from '../../lib/system/docs-page';
import { docsRoute } from '../../lib/system/routes';

/** The HTML API reference (Swagger UI); its scripts and styles come from the docsAsset route. */
export const handler = endpoint(docsRoute, async () => ({
  statusCode: 200,
  headers: {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': DOCS_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'public, max-age=300',
  },
  body: DOCS_HTML,
}));
