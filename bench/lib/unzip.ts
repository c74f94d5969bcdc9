/**
 * Unpacks a Lambda bundle for the cold-start scenario, so it needs no `unzip` binary and no
 * dependency: the entries come from the one zip reader (scripts/lib/zip.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { readZip } from '../../scripts/lib/zip';

export function unzipTo(zipPath: string, destDir: string): string[] {
  const written: string[] = [];
  for (const [name, data] of readZip(zipPath)) {
    const safe = normalize(name);
    if (safe.startsWith('..') || safe.startsWith('/')) throw new Error(`${zipPath}: unsafe entry ${name}`);
    const out = join(destDir, safe);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, data);
    written.push(safe);
  }
  return written;
}
