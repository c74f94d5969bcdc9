import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { FieldError } from '../errors';

/**
 * The query parameters of an API Gateway HTTP API (v2) event, with repeated names refused.
 * API Gateway joins the values of a repeated parameter with commas in `queryStringParameters`
 * (`q=a&q=b` arrives as `q: "a,b"`, exactly like `q=a%2Cb`), so a repeat can only be seen in
 * `rawQueryString`. A repeated name is reported and left out of the values, so it gets one clear
 * error rather than a second one about its comma-joined value.
 */
export function queryParamsOf(event: APIGatewayProxyEventV2): { values: Record<string, string>; errors: FieldError[] } {
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) values[name] = value;
  }
  const seen = new Map<string, number>();
  for (const name of new URLSearchParams(event.rawQueryString ?? '').keys()) seen.set(name, (seen.get(name) ?? 0) + 1);
  const errors: FieldError[] = [];
  for (const [name, count] of seen) {
    if (count < 2) continue;
    errors.push({ path: name, message: `${name} must be given at most once` });
    delete values[name];
  }
  return { values, errors };
}
