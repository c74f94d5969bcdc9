import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads `<dir>/.env` into process.env when the file exists (Node's own parser,
 * `process.loadEnvFile`, Node ≥ 20.12). A variable already set in the environment keeps its value,
 * so `PORT=5003 npm run dev` still wins over the file. Returns the file read, if any.
 */
export function loadDotEnv(dir: string): string | undefined {
  const file = join(dir, '.env');
  if (!existsSync(file)) return undefined;
  process.loadEnvFile(file);
  return file;
}
