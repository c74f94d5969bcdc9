import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { parse as parseContentType } from 'content-type';
import { MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors';
import { parseRequestJson } from './json';

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * `application/json`, matched as RFC 9110 §8.3 says: type, subtype and parameter names are
 * case-insensitive, whitespace around `;` is allowed. A charset, if given, must be UTF-8 (RFC 8259
 * §8.1: JSON between systems is UTF-8; a client declaring latin1 would have its bytes misread).
 * Other parameters are ignored; `+json` types and anything that does not parse are refused.
 */
export function isJsonMediaType(header: string): boolean {
  // What every JSON client sends, answered without parsing it (the parse would say true).
  if (header === 'application/json' || header === 'application/json; charset=utf-8') return true;
  const { type, parameters } = parseContentType(header);
  if (type !== 'application/json') return false;
  const charset = parameters.charset;
  return charset === undefined || charset.toLowerCase() === 'utf-8';
}

// JSON must be UTF-8 (RFC 8259): a base64 body is decoded strictly, where Buffer#toString would
// quietly turn invalid bytes into U+FFFD and store them.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body text. API Gateway sends a string or nothing. serverless-offline sends `null` for an
 * empty body, and JSON-parses the body itself first: a falsy result (`0`, `false`, and `null`)
 * arrives as that value, not as text. Such a value goes back to its JSON text; a `null` that came
 * with a non-zero Content-Length was the JSON `null`, not an empty body.
 */
function textOf(body: unknown, contentLength: string | undefined): string {
  if (typeof body === 'string') return body;
  if (body === null && Number(contentLength ?? 0) > 0) return 'null';
  return body == null ? '' : JSON.stringify(body);
}

/**
 * The JSON body of a request, checked in this order: size (413), media type (415), syntax
 * (400 malformed_json; see parseRequestJson for numbers, repeated keys, depth and a BOM). The parsed value replaces `event.body`; whether it is the right object is
 * the body schema's job (400 validation_failed), so `null`, `[]` or `"x"` get there like any other
 * wrong value. `body` may be missing (API Gateway) or `null` (serverless-offline): both are empty.
 * A step of the handler chain (lib/http/handler.ts), for routes with a body schema.
 */
export function readJsonBody(event: APIGatewayProxyEventV2): void {
  const raw = textOf(event.body as unknown, event.headers?.['content-length']);
  const bytes = event.isBase64Encoded ? Buffer.byteLength(raw, 'base64') : Buffer.byteLength(raw);
  if (bytes > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  const contentType = event.headers?.['content-type'];
  // A body must say it is JSON; an empty one with no Content-Type sent nothing of a wrong type.
  if ((contentType !== undefined || bytes > 0) && !isJsonMediaType(contentType ?? '')) {
    throw new UnsupportedMediaTypeError();
  }
  let text = raw;
  if (event.isBase64Encoded && text !== '') {
    try {
      text = strictUtf8.decode(Buffer.from(text, 'base64'));
    } catch {
      throw new MalformedJsonError('The request body is not valid UTF-8');
    }
  }
  if (text.trim() === '') throw new MalformedJsonError('The request body is empty; send a JSON object');
  // middy's convention: the parsed body replaces the text.
  event.body = parseRequestJson(text) as string;
  event.isBase64Encoded = false;
}
