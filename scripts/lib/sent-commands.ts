import { Connection } from 'mysql2';

/**
 * Records every command mysql2 hands to the server (handshake, query, prepare, execute, ping,
 * quit) from this process, with the connection's server thread id: one entry is one round trip.
 */
export interface SentCommand {
  command: string;
  sql: string | undefined;
  /** The server's id for the connection (`CONNECTION_ID()`), as INNODB_TRX shows it. */
  threadId: number | null;
}

type AddCommand = (this: Connection, cmd: { constructor: { name: string }; sql?: string }) => unknown;
const proto = Connection.prototype as unknown as { addCommand: AddCommand };
const original = proto.addCommand;
let active: SentCommand[] | undefined;
let installed = false;

/** Patches mysql2 once per process; nothing is recorded outside `recordCommands`. */
function install(): void {
  if (installed) return;
  installed = true;
  proto.addCommand = function (this: Connection, cmd) {
    active?.push({ command: cmd.constructor.name, sql: cmd.sql, threadId: this.threadId ?? null });
    return original.call(this, cmd);
  };
}

/**
 * Runs `fn` and returns the commands sent meanwhile. `log` is filled as commands go out, so a
 * test can watch it while `fn` is still running.
 */
export async function recordCommands(
  fn: (log: readonly SentCommand[]) => Promise<void>,
  log: SentCommand[] = [],
): Promise<SentCommand[]> {
  install();
  active = log;
  try {
    await fn(log);
  } finally {
    active = undefined;
  }
  return log;
}

/**
 * A statement reduced to its kind: verb, table, and whether it locks (`select products for
 * update`, `insert order_lines`, `commit`), so that two implementations of the same transaction
 * compare equal when they send the same statements in the same order, whatever their literals.
 */
export function statementKind(sqlText: string | undefined): string {
  // Several statements sent as one query (an order's lock tail, `…; …; commit`): their kinds joined
  // by ' + '. The split is on `;` at a line end, how the code joins them (lib/db/compiled.ts oneQuery).
  const parts = (sqlText ?? '').split(/;\s*\n/);
  if (parts.length > 1) return parts.map((p) => oneStatementKind(p)).join(' + ');
  return oneStatementKind(sqlText);
}

/** True when the query ends its transaction: COMMIT or ROLLBACK alone, or as its last statement. */
export function endsTransaction(sqlText: string | undefined): boolean {
  return /(^|;)\s*(commit|rollback)\s*$/i.test((sqlText ?? '').trim());
}

function oneStatementKind(sqlText: string | undefined): string {
  const s = (sqlText ?? '').replace(/\s+/g, ' ').trim().toLowerCase();
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
