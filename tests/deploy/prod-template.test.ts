/**
 * The prod stage as CloudFormation: runs `npm run package:prod` (osls package --stage prod, offline,
 * with the placeholder parameters) once into a temporary directory and checks the generated
 * template and bundles against every production requirement, so a regression fails CI.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_ADMIN_API_KEY } from '../../lib/config';
import { readZip } from '../../scripts/lib/zip';

const ROOT = join(__dirname, '..', '..');
const API_GATEWAY_TIMEOUT_S = 30;
const MAX_ZIP_BYTES = 1024 * 1024;
/** lib/db/transaction.ts: backoff before retry n is below 2·base·2ⁿ ms with base 10 ms. */
const BACKOFF_BASE_MS = 10;

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties: Json;
  Condition?: string;
}

let outDir: string;
let templateText: string;
let resources: Record<string, Resource>;
let conditions: Json;
const bundleBytes = new Map<string, number>();
const usesDatabase = new Map<string, boolean>();

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const lambdas = () => ofType('AWS::Lambda::Function');
const env = (fn: Resource) => ((fn.Properties.Environment as Json).Variables ?? {}) as Record<string, unknown>;
const fnName = (fn: Resource) => String(fn.Properties.FunctionName).replace(/^shop-api-prod-/, '');
const resource = (id: string): Resource => {
  const r = resources[id];
  if (!r) throw new Error(`no resource ${id} in the template`);
  return r;
};
/** Route keys ("POST /orders") served by each function, from the HTTP API integrations. */
function routesOf(logicalId: string): string[] {
  const integrations = ofType('AWS::ApiGatewayV2::Integration')
    .filter(([, r]) => JSON.stringify(r.Properties.IntegrationUri).includes(`"${logicalId}"`))
    .map(([id]) => id);
  return ofType('AWS::ApiGatewayV2::Route')
    .filter(([, r]) => integrations.some((i) => JSON.stringify(r.Properties.Target).includes(`"${i}"`)))
    .map(([, r]) => String(r.Properties.RouteKey));
}
const isWriter = (routes: string[]) => routes.some((k) => /^(POST|PATCH|DELETE|PUT) /.test(k));
const proxyPool = () => resource('DbProxyTargetGroup').Properties.ConnectionPoolConfigurationInfo as Json;
const serverLockWaitS = () => {
  const m = /SET innodb_lock_wait_timeout = (\d+)/.exec(String(proxyPool().InitQuery));
  if (!m) throw new Error('the proxy init query does not set innodb_lock_wait_timeout');
  return Number(m[1]);
};

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'shop-api-prod-package-'));
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [bin, ...args] = (pkg.scripts['package:prod'] ?? '').split(/\s+/);
  if (bin !== 'osls') throw new Error(`package:prod should run osls, found: ${pkg.scripts['package:prod']}`);
  // A clean environment: nothing from this shell (DATABASE_URL, LOG_LEVEL …) may leak into the template.
  await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'osls'), [...args, '--package', outDir], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, SLS_TELEMETRY_DISABLED: '1' },
    maxBuffer: 16 * 1024 * 1024,
    timeout: 280_000,
  });
  templateText = await readFile(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8');
  const template = JSON.parse(templateText) as { Resources: Record<string, Resource>; Conditions?: Json };
  resources = template.Resources;
  conditions = template.Conditions ?? {};
  for (const file of await readdir(outDir)) {
    if (!file.endsWith('.zip')) continue;
    const name = file.replace(/\.zip$/, '');
    bundleBytes.set(name, (await stat(join(outDir, file))).size);
    // mysql2's auth plugin name is in every bundle that can open a database connection.
    const code = [...readZip(join(outDir, file)).values()];
    usesDatabase.set(
      name,
      code.some((c) => c.includes('mysql_native_password')),
    );
  }
  const sizes = [...bundleBytes].map(([n, b]) => `${n} ${(b / 1024).toFixed(0)} KB`).join(', ');
  console.log(`prod package: ${lambdas().length} functions; zips: ${sizes}`);
}, 300_000);

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('every prod function', () => {
  it('is packaged: one zip per function, each at most 1024 KB, without the runtime-provided AWS SDK inlined', () => {
    expect(lambdas().length).toBeGreaterThanOrEqual(12);
    expect([...bundleBytes.keys()].sort()).toEqual(
      lambdas()
        .map(([, f]) => fnName(f))
        .sort(),
    );
    for (const [name, bytes] of bundleBytes) expect(bytes, name).toBeLessThanOrEqual(MAX_ZIP_BYTES);
    const health = readZip(join(outDir, 'health.zip'));
    const code = [...health.values()].join('');
    expect(code).toContain('require("@aws-sdk/client-secrets-manager")');
    expect(code).not.toContain('GetSecretValueCommand extends');
  });

  it('runs on arm64 in the VPC, with a supported Node.js runtime and its own memory size', () => {
    for (const [id, fn] of lambdas()) {
      const p = fn.Properties;
      expect(p.Architectures, id).toEqual(['arm64']);
      expect(p.Runtime, id).toBe('nodejs22.x');
      expect(p.MemorySize, id).toBeGreaterThanOrEqual(256);
      const vpc = (p.VpcConfig ?? {}) as Json;
      const split = (v: unknown) => (((v ?? {}) as Json)['Fn::Split'] as [string, string] | undefined)?.[1] ?? '';
      expect(split(vpc.SubnetIds).split(',').length, `${id}: subnets in at least two AZs`).toBeGreaterThanOrEqual(2);
      expect(split(vpc.SecurityGroupIds), `${id}: security groups`).toMatch(/^sg-/);
    }
    const role = resource('IamRoleLambdaExecution').Properties;
    expect(JSON.stringify(role.ManagedPolicyArns)).toContain('AWSLambdaVPCAccessExecutionRole');
  });

  it('has reserved concurrency', () => {
    for (const [id, fn] of lambdas()) {
      const reserved = fn.Properties.ReservedConcurrentExecutions;
      expect(Number.isInteger(reserved) && (reserved as number) >= 1, `${id}: ${String(reserved)}`).toBe(true);
    }
  });

  it('times out before API Gateway (30 s), after the worst case of lock waits, retries, backoff and a proxy borrow', () => {
    const lockWaitS = serverLockWaitS();
    const borrowS = Number(proxyPool().ConnectionBorrowTimeout);
    for (const [id, fn] of lambdas()) {
      const timeout = Number(fn.Properties.Timeout);
      const routes = routesOf(id);
      if (routes.length === 0) {
        expect(timeout, `${id} (not behind API Gateway)`).toBeLessThanOrEqual(900);
        continue;
      }
      expect(timeout, `${id} serves ${routes.join(', ')}`).toBeLessThan(API_GATEWAY_TIMEOUT_S);
      if (!usesDatabase.get(fnName(fn))) continue;
      const e = env(fn);
      expect(e.DB_LOCK_WAIT_TIMEOUT_S, id).toBe('0');
      const retries = Number(e.DB_MAX_RETRIES);
      const connectS = Number(e.DB_CONNECT_TIMEOUT_MS) / 1000;
      expect(borrowS + connectS, `${id}: waiting for a connection`).toBeLessThan(timeout);
      if (isWriter(routes)) {
        const backoffS = (2 * BACKOFF_BASE_MS * (2 ** retries - 1)) / 1000;
        const worst = lockWaitS * (retries + 1) + backoffS + borrowS;
        expect(worst, `${id}: ${lockWaitS}s × ${retries + 1} + ${backoffS}s + ${borrowS}s`).toBeLessThan(timeout);
      }
    }
  });

  it('keeps its logs for a bounded time', () => {
    for (const [id, fn] of lambdas()) {
      const logGroupId = `${id.replace(/LambdaFunction$/, '')}LogGroup`;
      const days = resource(logGroupId).Properties.RetentionInDays;
      expect(days, fn.Properties.FunctionName as string).toBe(30);
    }
  });

  it('has a throttles alarm and a database_unavailable metric filter', () => {
    for (const [id] of lambdas()) {
      const base = id.replace(/LambdaFunction$/, '');
      const alarm = resource(`${base}ThrottlesAlarm`).Properties;
      expect(alarm.MetricName).toBe('Throttles');
      expect(alarm.Dimensions).toEqual([{ Name: 'FunctionName', Value: { Ref: id } }]);
      expect(alarm.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
      const filter = resource(`${base}DatabaseUnavailableMetricFilter`).Properties;
      expect(filter.LogGroupName).toEqual({ Ref: `${base}LogGroup` });
      expect(filter.FilterPattern).toBe('"database_unavailable"');
    }
  });
});

describe('database access', () => {
  it('goes through the RDS Proxy this stack creates, over TLS, with credentials the proxy reads from Secrets Manager', () => {
    const proxy = resource('DbProxy').Properties;
    expect(proxy.EngineFamily).toBe('MYSQL');
    expect(proxy.RequireTLS).toBe(true);
    const auth = (proxy.Auth as Json[])[0] as Json;
    expect(auth.AuthScheme).toBe('SECRETS');
    for (const [id, fn] of lambdas()) {
      const e = env(fn);
      expect(JSON.stringify(e.DATABASE_URL), id).toContain('{"Fn::GetAtt":["DbProxy","Endpoint"]}');
      expect(e.DB_SECRET_ARN, id).toBe(auth.SecretArn);
      expect(e.DB_TLS, id).toBe('true');
      expect(e.STAGE, id).toBe('prod');
    }
  });

  it('sets the lock wait where it does not pin: the proxy init query, never a per-session SET from the app', () => {
    expect(proxyPool().InitQuery).toMatch(/^SET innodb_lock_wait_timeout = \d+$/);
    expect(serverLockWaitS()).toBeGreaterThanOrEqual(1);
    for (const [id, fn] of lambdas()) expect(env(fn).DB_LOCK_WAIT_TIMEOUT_S, id).toBe('0');
  });

  it('offers GET handlers the proxy read-only endpoint as DATABASE_READ_URL', () => {
    const read = resource('DbProxyReadEndpoint');
    expect(read.Properties.TargetRole).toBe('READ_ONLY');
    expect(read.Condition).toBe('HasReadEndpoint');
    expect(conditions.HasReadEndpoint).toEqual({ 'Fn::Equals': ['true', 'true'] });
    for (const [id, fn] of lambdas()) {
      expect(JSON.stringify(env(fn).DATABASE_READ_URL), id).toContain('"DbProxyReadEndpoint","Endpoint"');
    }
  });

  it('fits the connection budget: Σ reserved concurrency × pool size ≤ the proxy share of max_connections', () => {
    const tags = resource('DbProxy').Properties.Tags as Array<{ Key: string; Value: string }>;
    const maxConnections = Number(tags.find((t) => t.Key === 'shop-api:db-max-connections')?.Value);
    const share = Math.floor((maxConnections * Number(proxyPool().MaxConnectionsPercent)) / 100);
    let budget = 0;
    const lines: string[] = [];
    for (const [, fn] of lambdas()) {
      const name = fnName(fn);
      if (!usesDatabase.get(name)) continue;
      const pool = Number(env(fn).DB_POOL_SIZE);
      expect(pool, name).toBeGreaterThanOrEqual(1);
      expect(pool, name).toBeLessThanOrEqual(2);
      const reserved = Number(fn.Properties.ReservedConcurrentExecutions);
      budget += reserved * pool;
      lines.push(`${name} ${reserved}×${pool}`);
    }
    console.log(
      `connection budget: ${lines.join(' + ')} = ${budget} ≤ ${share} (${maxConnections} × ${String(proxyPool().MaxConnectionsPercent)}%)`,
    );
    expect(maxConnections).toBeGreaterThan(0);
    expect(budget).toBeLessThanOrEqual(share);
    expect(usesDatabase.get('notFound')).toBe(false);
    expect(usesDatabase.get('createOrder')).toBe(true);
    // The connections alarm fires before the share is spent.
    expect(Number(resource('DbProxyConnectionsAlarm').Properties.Threshold)).toBeLessThan(share);
  });

  it('has a migrate function outside API Gateway, one at a time, that only migrations may take long in', () => {
    const migrate = resource('MigrateLambdaFunction');
    expect(routesOf('MigrateLambdaFunction')).toEqual([]);
    expect(migrate.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(migrate.Properties.Handler).toBe('functions/system/migrate.handler');
  });
});

describe('secrets', () => {
  it('are referenced by ARN only: no password, admin key or connection credentials anywhere in the template', () => {
    expect(templateText).not.toContain(DEV_ADMIN_API_KEY);
    expect(templateText).not.toMatch(/mysql:\/\/[^"/@]*:[^"/@]*@/); // user:password@ in a URL
    expect(templateText).not.toMatch(/"(Master)?(User)?Password"\s*:/i);
    expect(templateText).not.toMatch(/"SecretString"\s*:/);
    for (const [id, fn] of lambdas()) {
      const e = env(fn);
      expect(e.ADMIN_API_KEY, id).toBe('');
      expect(String(e.ADMIN_API_KEY_SECRET_ARN), id).toMatch(/^arn:aws:secretsmanager:/);
      for (const [name, value] of Object.entries(e)) {
        if (!/PASSWORD|SECRET|TOKEN|KEY/.test(name)) continue;
        expect(value === '' || /^arn:aws:secretsmanager:/.test(String(value)), `${id}.${name}`).toBe(true);
      }
    }
  });

  it('are readable by the functions for exactly the two secrets, nothing wider', () => {
    const statements = (resource('IamRoleLambdaExecution').Properties.Policies as Json[]).flatMap(
      (p) => ((p.PolicyDocument as Json).Statement as Json[]) ?? [],
    );
    const secretStatements = statements.filter((s) => JSON.stringify(s.Action).includes('secretsmanager'));
    expect(secretStatements).toHaveLength(1);
    const [first] = lambdas();
    const e = env(first?.[1] as Resource);
    expect(secretStatements[0]?.Action).toEqual(['secretsmanager:GetSecretValue']);
    expect(secretStatements[0]?.Resource).toEqual([e.DB_SECRET_ARN, e.ADMIN_API_KEY_SECRET_ARN]);
  });
});

describe('the HTTP API', () => {
  it('throttles every route at the stage, and POST /orders more tightly', () => {
    const stage = resource('HttpApiStage').Properties;
    const defaults = stage.DefaultRouteSettings as Json;
    expect(defaults.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(defaults.ThrottlingBurstLimit).toBeGreaterThan(0);
    const orders = (stage.RouteSettings as Record<string, Json>)['POST /orders'] as Json;
    expect(orders.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(orders.ThrottlingRateLimit as number).toBeLessThanOrEqual(defaults.ThrottlingRateLimit as number);
    expect(orders.ThrottlingBurstLimit as number).toBeLessThanOrEqual(defaults.ThrottlingBurstLimit as number);
  });

  it('states CORS explicitly: named origins, the methods and headers the contract uses', () => {
    const cors = resource('HttpApi').Properties.CorsConfiguration as Json;
    const origins = cors.AllowOrigins as string[];
    expect(origins.length).toBeGreaterThan(0);
    expect(origins).not.toContain('*');
    expect(cors.AllowMethods).toEqual(expect.arrayContaining(['GET', 'POST', 'PATCH', 'DELETE']));
    expect(cors.AllowHeaders).toEqual(
      expect.arrayContaining(['Authorization', 'Content-Type', 'Idempotency-Key', 'If-Match', 'If-None-Match']),
    );
    expect(cors.ExposeHeaders).toEqual(expect.arrayContaining(['ETag', 'Location', 'Retry-After', 'X-Request-Id']));
    expect(cors.AllowCredentials ?? false).toBe(false);
  });
});

describe('alarms', () => {
  const alarm = (id: string) => resource(id).Properties;

  it('watch the 5xx rate, p99 latency, database errors, retries and proxy pinning, and notify the topic', () => {
    const rate = alarm('Api5xxRateAlarm');
    expect(JSON.stringify(rate.Metrics)).toContain('"MetricName":"5xx"');
    expect(JSON.stringify(rate.Metrics)).toContain('"MetricName":"Count"');
    expect(alarm('ApiLatencyP99Alarm').ExtendedStatistic).toBe('p99');
    expect(alarm('ApiLatencyP99Alarm').MetricName).toBe('Latency');
    expect(alarm('DatabaseUnavailableAlarm')).toMatchObject({
      Namespace: 'ShopApi',
      MetricName: 'DatabaseUnavailable',
    });
    expect(alarm('DbRetriesAlarm')).toMatchObject({ Namespace: 'ShopApi', MetricName: 'DbRetries' });
    expect(alarm('DbProxyPinnedConnectionsAlarm').MetricName).toBe('DatabaseConnectionsCurrentlySessionPinned');
    for (const [id, a] of ofType('AWS::CloudWatch::Alarm')) {
      expect(a.Properties.AlarmActions, id).toEqual([{ Ref: 'AlarmTopic' }]);
    }
    expect(resource('AlarmTopic').Type).toBe('AWS::SNS::Topic');
  });
});

describe('deploying the placeholders', () => {
  it('is refused: deploy/refuse-placeholders.js names what is left to set', () => {
    const Plugin = createRequire(__filename)('../../deploy/refuse-placeholders.js') as new (
      sls: unknown,
    ) => { hooks: Record<string, () => void> };
    const slsWith = (template: unknown) => ({
      service: { provider: { compiledCloudFormationTemplate: template } },
      classes: { Error },
    });
    const placeholders = JSON.parse(templateText) as unknown;
    expect(() => new Plugin(slsWith(placeholders)).hooks['before:deploy:deploy']?.()).toThrow(
      /Refusing to deploy: placeholder parameters remain \(.*subnet-PLACEHOLDER/,
    );
    const real = JSON.parse(templateText.replaceAll('PLACEHOLDER', 'real')) as unknown;
    expect(() => new Plugin(slsWith(real)).hooks['before:deploy:deploy']?.()).not.toThrow();
  });
});
