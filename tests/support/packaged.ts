import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { unzipTo } from '../../bench/lib/unzip';

/**
 * The deployable artefact, exercised as Lambda would run it: `osls package` into a temporary
 * folder, one function's zip unpacked, its handler loaded by a fresh `node` with only the
 * environment given (the template's variables plus what the Lambda runtime sets).
 */
const ROOT = join(__dirname, '..', '..');

export interface Packaged {
  dir: string;
  template: {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  templateText: string;
}

/** `osls package --stage <stage>` with exactly `shellEnv` (plus PATH and HOME) in its environment. */
export async function packageStage(stage: string, shellEnv: Record<string, string> = {}): Promise<Packaged> {
  const dir = await mkdtemp(join(tmpdir(), `shop-api-${stage}-package-`));
  await promisify(execFile)(
    join(ROOT, 'node_modules', '.bin', 'osls'),
    ['package', '--stage', stage, '--package', dir],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SLS_TELEMETRY_DISABLED: '1', ...shellEnv },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 280_000,
    },
  );
  const templateText = await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8');
  return { dir, template: JSON.parse(templateText) as Packaged['template'], templateText };
}

/** The function's resource in the template: its handler, timeout and environment (string values). */
export function functionOf(pkg: Packaged, name: string) {
  const resource = Object.values(pkg.template.Resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.FunctionName).endsWith(`-${name}`),
  );
  if (!resource) throw new Error(`no function ${name} in the template`);
  const p = resource.Properties;
  const vars = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<
    string,
    unknown
  >;
  const env = Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { handler: String(p.Handler), timeoutS: Number(p.Timeout), functionName: String(p.FunctionName), env };
}

/** What the Lambda runtime adds to a function's own variables (no IS_OFFLINE: this is not local). */
export function lambdaRuntimeEnv(functionName: string, taskRoot: string): Record<string, string> {
  return {
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_REGION: 'eu-west-1',
    LAMBDA_TASK_ROOT: taskRoot,
    TZ: ':UTC',
  };
}

export interface PackagedRun {
  /** False when loading the handler module threw (the function refused to start). */
  started: boolean;
  startError?: string;
  result?: { statusCode: number; headers: Record<string, string>; body?: string };
  /** Everything the process wrote (log lines, a start-up failure). */
  output: string;
}

const RESULT = '__packaged_result__';
/** Loads the handler and invokes it once, as the Lambda runtime does: module init, then one event. */
const RUNNER = `
const [file, name, eventJson, timeoutMs] = process.argv.slice(1);
let handler;
try { handler = require(file)[name]; }
catch (err) { console.log('${RESULT}' + JSON.stringify({ started: false, startError: String(err && err.stack || err) })); process.exit(0); }
const deadline = Date.now() + Number(timeoutMs);
const context = { awsRequestId: 'packaged-' + process.pid, functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:x', memoryLimitInMB: '512',
  logGroupName: '/aws/lambda/x', logStreamName: 'x', callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => deadline - Date.now() };
Promise.resolve(handler(JSON.parse(eventJson), context)).then(
  (result) => { console.log('${RESULT}' + JSON.stringify({ started: true, result })); process.exit(0); },
  (err) => { console.log('${RESULT}' + JSON.stringify({ started: true, startError: String(err && err.stack || err) })); process.exit(0); });
`;

/**
 * Unpacks `<functionName>.zip` (once per call, into its own folder) and runs its handler in a new
 * `node` process with `env` and nothing else from this process but PATH.
 */
export async function runPackaged(
  pkg: Packaged,
  name: string,
  event: APIGatewayProxyEventV2,
  env: Record<string, string>,
): Promise<PackagedRun> {
  const fn = functionOf(pkg, name);
  const taskRoot = await mkdtemp(join(pkg.dir, `${name}-`));
  unzipTo(join(pkg.dir, `${name}.zip`), taskRoot);
  const dot = fn.handler.lastIndexOf('.');
  const file = join(taskRoot, `${fn.handler.slice(0, dot)}.js`);
  const args = ['-e', RUNNER, file, fn.handler.slice(dot + 1), JSON.stringify(event), String(fn.timeoutS * 1000)];
  const child = spawn(process.execPath, args, { cwd: taskRoot, env: { PATH: process.env.PATH, ...env } });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', () => resolve());
  });
  const line = output.split('\n').find((l) => l.startsWith(RESULT));
  if (!line) return { started: false, startError: 'the process ended without a result', output };
  return { ...(JSON.parse(line.slice(RESULT.length)) as Omit<PackagedRun, 'output'>), output };
}
