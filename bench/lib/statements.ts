/**
 * What a piece of code sends to the database, statement by statement: every command a mysql2
 * connection is handed (Kysely's driver and the raw pools both go through `Connection.addCommand`),
 * with the server thread id of the connection. And the server's own record of the same: its
 * general log, switched on for the moment of the capture and restored after.
 */
import { Connection } from 'mysql2';
import { withConnection, queryRows } from './databases';

export interface SentStatement {
  threadId: number | null;
  sql: string;
}

type AddCommand = (this: Connection, cmd: { constructor: { name: string }; sql?: string }) => unknown;

/** Runs `fn` and returns every query statement sent meanwhile, in order, with its connection's thread id. */
export async function captureStatements(fn: () => Promise<void>): Promise<SentStatement[]> {
  const proto = Connection.prototype as unknown as { addCommand: AddCommand };
  const original = proto.addCommand;
  const sent: SentStatement[] = [];
  proto.addCommand = function (this: Connection, cmd) {
    if (cmd.constructor.name === 'Query' && typeof cmd.sql === 'string')
      sent.push({ threadId: this.threadId ?? null, sql: cmd.sql });
    return original.call(this, cmd);
  };
  try {
    await fn();
  } finally {
    proto.addCommand = original;
  }
  return sent;
}

/**
 * A statement reduced to its kind: verb, table, and whether it locks (`select products for
 * update`, `insert order_lines`, `commit`), so that two implementations of the same transaction
 * compare equal when they send the same statements in the same order, whatever their literals.
 */
export function statementKind(sqlText: string): string {
  const s = sqlText.replace(/\s+/g, ' ').trim().toLowerCase();
  const verb = s.split(' ')[0] ?? '';
  const table =
    /^(?:select|delete)\b.*?\bfrom `?(\w+)`?/.exec(s)?.[1] ??
    /^insert into `?(\w+)`?/.exec(s)?.[1] ??
    /^update `?(\w+)`?/.exec(s)?.[1] ??
    '';
  const lock = /\bfor update\b/.test(s)
    ? ' for update'
    : /\block in share mode\b|\bfor share\b/.test(s)
      ? ' for share'
      : '';
  return [verb, table].filter(Boolean).join(' ') + lock;
}

/**
 * Round trips while a product row lock is held: from the first locking read of `products` to the
 * COMMIT, both included, on the connection that took the lock. 0 when no statement locks.
 */
export function lockRoundTrips(statements: readonly SentStatement[]): number {
  const first = statements.findIndex((s) => statementKind(s.sql) === 'select products for update');
  if (first < 0) return 0;
  const thread = statements[first]?.threadId;
  const same = statements.slice(first).filter((s) => s.threadId === thread);
  const end = same.findIndex((s) => /^\s*(commit|rollback)\b/i.test(s.sql));
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
