import type { Machine } from './machine';
import type { Server } from './databases';
import type { Summary } from './load';
import type { StockAudit } from './stock-check';

export interface Settings {
  quick: boolean;
  concurrency: number;
  /** Measured phase of each HTTP load. */
  durationMs: number;
  warmupMs: number;
  /** In-process write scenarios run in interleaved slices: how many, and how long each. */
  slices: number;
  sliceMs: number;
  /** Requests per catalogue measurement. */
  readDurationMs: number;
  coldStartRuns: number;
  catalogueSize: number;
  catalogueName: string;
  keep: boolean;
  only: Set<string> | undefined;
  /** One-way delay of the latency proxy for the `_latency` rows (ms); 0: loopback only. */
  latencyMs: number;
}

export interface ScenarioRow extends Summary {
  name: string;
  note: string;
}

export interface BenchContext {
  settings: Settings;
  server: Server;
  machine: Machine;
  repoRoot: string;
  /** The fresh run database (write scenarios). */
  runUrl: string;
  rows: ScenarioRow[];
  audits: Array<{ scenario: string } & StockAudit>;
  details: Record<string, unknown>;
  log: (line: string) => void;
}

export function addRow(ctx: BenchContext, name: string, s: Summary, note = ''): ScenarioRow {
  const row = { name, note, ...s };
  ctx.rows.push(row);
  const failed = s.failed > 0 ? `, ${s.failed} failed` : '';
  ctx.log(
    `  ${name}: ${s.ops_per_s.toFixed(0)}/s, p50 ${s.p50_ms.toFixed(2)} ms, p99 ${s.p99_ms.toFixed(2)} ms (${s.ok} ok${failed})`,
  );
  return row;
}

export function recordAudit(ctx: BenchContext, scenario: string, audit: StockAudit): void {
  ctx.audits.push({ scenario, ...audit });
  if (audit.lost_updates !== 0 || audit.unrecorded_units !== 0 || audit.ledger_mismatches !== 0) {
    ctx.log(
      `  !! ${scenario}: ${audit.lost_updates} lost updates, ${audit.unrecorded_units} acknowledged units not recorded, ${audit.ledger_mismatches} ledger mismatches`,
    );
  }
}
