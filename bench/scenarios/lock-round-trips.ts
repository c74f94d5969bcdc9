/**
 * How many round trips a hot order holds its product row lock: one order on the hot product by
 * each placer, its statements recorded as mysql2 sends them (bench/lib/statements.ts) and, for the
 * handler, checked against the server's general log. The handler's statement kinds are compared
 * with the lock-last raw transaction's, so `raw_hot` stays the floor of the same statements.
 */
import type { BenchContext } from '../lib/context';
import {
  captureStatements,
  type GeneralLogCheck,
  lockRoundTrips,
  sameStatements,
  type SentStatement,
  statementKind,
  withGeneralLog,
} from '../lib/statements';
import type { Line } from '../lib/stock-check';
import type { Placer } from './orders';

export interface LockRoundTrips {
  /** The handler's hot order: round trips from its FOR UPDATE to its COMMIT, both included. */
  handler: number;
  raw: number;
  raw_naive: number;
  /** The general log agreed with the statements counted ('yes'), disagreed ('NO'), or could not be read. */
  general_log: 'yes' | 'NO' | string;
  /** Which raw transaction sends the same statement kinds in the same order as the handler. */
  handler_statements_like: 'raw' | 'raw_naive' | 'neither';
  statements: Record<string, string[]>;
}

const kinds = (ss: readonly SentStatement[]) => ss.map((s) => statementKind(s.sql));
const same = (a: readonly SentStatement[], b: readonly SentStatement[]) => kinds(a).join('\n') === kinds(b).join('\n');

export async function measureLockRoundTrips(
  ctx: BenchContext,
  order: Line[],
  placers: { handler: Placer; raw: Placer; rawNaive: Placer },
): Promise<LockRoundTrips> {
  // Warm connections first, so the capture holds the order's statements and not a pool's set-up.
  for (const p of [placers.handler, placers.raw, placers.rawNaive]) await p.place(order);
  const raw = await captureStatements(() => placers.raw.place(order));
  const rawNaive = await captureStatements(() => placers.rawNaive.place(order));
  const { result: handler, log } = await withGeneralLog<SentStatement[]>(
    ctx.server.url,
    () => captureStatements(() => placers.handler.place(order)),
    (sent) => [...new Set(sent.map((s) => s.threadId).filter((t): t is number => t !== null))],
  );
  const checked = generalLogVerdict(handler, log);
  const result: LockRoundTrips = {
    handler: lockRoundTrips(handler),
    raw: lockRoundTrips(raw),
    raw_naive: lockRoundTrips(rawNaive),
    general_log: checked,
    handler_statements_like: same(handler, raw) ? 'raw' : same(handler, rawNaive) ? 'raw_naive' : 'neither',
    statements: { handler: kinds(handler), raw: kinds(raw), raw_naive: kinds(rawNaive) },
  };
  ctx.log(
    `  lock round trips, hot order: handler ${result.handler} (general log: ${checked}), raw ${result.raw}, raw naive ${result.raw_naive}; the handler's statements are like: ${result.handler_statements_like}`,
  );
  if (result.handler_statements_like === 'neither') ctx.log(`  handler: ${result.statements.handler?.join('; ')}`);
  return result;
}

function generalLogVerdict(sent: SentStatement[], log: GeneralLogCheck): string {
  if (log.unavailable) return `not checked: ${log.unavailable.slice(0, 120)}`;
  return sameStatements(sent, log.statements) && lockRoundTrips(log.statements) === lockRoundTrips(sent) ? 'yes' : 'NO';
}
