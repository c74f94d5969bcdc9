/**
 * What a piece of code sends to the database, statement by statement: every command a mysql2
 * connection is handed (Kysely's driver and the raw pools both go through it), with the server
 * thread id of the connection. And the server's own record of the same: its
 * general log, switched on for the moment of the capture and restored after.
 */
import { endsTransaction, recordCommands, statementKind } from '../../scripts/lib/sent-commands';
import { queryRows, withConnection } from './databases';

export { statementKind };

export interface SentStatement {
  threadId: number | null;
  sql: string;
}

/**
 * Runs `fn` and returns every query statement sent meanwhile, in order, with its connection's
 * thread id (the one command recorder, scripts/lib/sent-commands.ts, that the order tests use too).
 */
export async function captureStatements(fn: () => Promise<void>): Promise<SentStatement[]> {
  const commands = await recordCommands(() => fn());
  return commands
    .filter((c) => c.command === 'Query' && typeof c.sql === 'string')
    .map((c) => ({ threadId: c.threadId, sql: c.sql as string }));
}

/**
 * Round trips while the row that holds a product's stock is locked exclusively: from the first
 * `FOR UPDATE` of `products` (the naive order) or of `stock_shards` (the service since stock
 * shards: its products rows are only share-locked, which orders do not wait for) to the COMMIT,
 * both included, on the connection that took the lock: 1 when one query locks, takes and commits.
 * 0 when no statement locks.
 */
export function lockRoundTrips(statements: readonly SentStatement[]): number {
  const first = statements.findIndex((s) =>
    ['select products for update', 'select stock_shards for update'].includes(
      statementKind(s.sql).split(' + ')[0] ?? '',
    ),
  );
  if (first < 0) return 0;
  const thread = statements[first]?.threadId;
  const same = statements.slice(first).filter((s) => s.threadId === thread);
  // A query may end the transaction itself (`SELECT … FOR UPDATE; UPDATE …; commit` in one trip).
  const end = same.findIndex((s) => endsTransaction(s.sql));
  return end < 0 ? same.length : end + 1;
}

export interface GeneralLogCheck {
  /** The server's general log for the captured connections, query statements only, in order. */
  statements: SentStatement[];
  /** Why the log could not be read, when it could not (no privilege, a remote server, …). */
  unavailable?: string;
}

/**
 * Runs `fn` with the server's general log on (to the log table), and returns what the server
 * logged for the threads `threadsOf(result)` names. The server's previous log settings are
 * restored at once; the few rows it logged meanwhile stay in mysql.general_log.
 */
export async function withGeneralLog<T>(
  serverUrl: string,
  fn: () => Promise<T>,
  threadsOf: (result: T) => number[],
): Promise<{ result: T; log: GeneralLogCheck }> {
  return withConnection(serverUrl, async (c) => {
    let before: { on: number; output: string } | undefined;
    try {
      const [row] = await queryRows<{ on: number; output: string }>(
        c,
        'SELECT @@GLOBAL.general_log AS `on`, @@GLOBAL.log_output AS output',
      );
      before = row;
    } catch (err) {
      before = undefined;
      const result = await fn();
      return { result, log: { statements: [], unavailable: String(err) } };
    }
    const output = String(before?.output ?? 'FILE');
    let started: string;
    try {
      if (!/TABLE/i.test(output))
        await c.query(`SET GLOBAL log_output = '${output === 'NONE' ? 'TABLE' : `${output},TABLE`}'`);
      await c.query('SET GLOBAL general_log = 1');
      const [now] = await queryRows<{ t: string }>(c, "SELECT DATE_FORMAT(NOW(6), '%Y-%m-%d %H:%i:%s.%f') AS t");
      started = String(now?.t);
    } catch (err) {
      const result = await fn();
      return { result, log: { statements: [], unavailable: `cannot switch the general log on: ${String(err)}` } };
    }
    let result: T;
    try {
      result = await fn();
    } finally {
      await c.query(`SET GLOBAL general_log = ${Number(before?.on) ? 1 : 0}`);
      if (!/TABLE/i.test(output)) await c.query(`SET GLOBAL log_output = '${output}'`);
    }
    const threads = threadsOf(result);
    if (threads.length === 0) return { result, log: { statements: [] } };
    const rows = await queryRows<{ thread_id: number; argument: string }>(
      c,
      `SELECT thread_id, CONVERT(argument USING utf8mb4) AS argument FROM mysql.general_log
       WHERE command_type = 'Query' AND thread_id IN (?) AND event_time >= ?`,
      [threads, started],
    );
    return {
      result,
      log: { statements: rows.map((r) => ({ threadId: Number(r.thread_id), sql: String(r.argument) })) },
    };
  });
}

const normal = (s: string) => s.replace(/\s+/g, ' ').trim();

/** Whether the server logged exactly the statements the client sent (whitespace aside). */
export function sameStatements(a: readonly SentStatement[], b: readonly SentStatement[]): boolean {
  return a.length === b.length && a.every((s, i) => normal(s.sql) === normal(b[i]?.sql ?? ''));
}
