import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { config } from '../config';
import { ifNoneMatchHits, strongEtag } from './etag';

export type HttpResult = APIGatewayProxyStructuredResultV2 & {
  statusCode: number;
  headers: Record<string, string | number | boolean>;
};

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'Content-Type': JSON_CONTENT_TYPE, ...headers }, body: JSON.stringify(body) };
}

export function noContent(headers: Record<string, string> = {}): HttpResult {
  return { statusCode: 204, headers };
}

/**
 * A cacheable JSON 200 with a strong ETag; 304 without a body when If-None-Match matches.
 * API Gateway passes the handler's answer through, so the handler must make the 304 itself.
 */
export function cacheableJson(body: unknown, ifNoneMatch: string | undefined, cacheControl: string): HttpResult {
  const text = JSON.stringify(body);
  const etag = strongEtag(text);
  const headers = { ETag: etag, 'Cache-Control': cacheControl };
  if (ifNoneMatchHits(ifNoneMatch, etag)) return { statusCode: 304, headers };
  return { statusCode: 200, headers: { 'Content-Type': JSON_CONTENT_TYPE, ...headers }, body: text };
}

/** Cache-Control of public catalogue reads: shared caches may keep them CACHE_MAX_AGE_S seconds. */
export function publicCacheControl(): string {
  return `public, max-age=${config().cacheMaxAgeS}`;
}
