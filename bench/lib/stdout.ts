import { closeSync, openSync, writeSync } from 'node:fs';

/** Stdout taken over by the bench: `restore` puts process.stdout.write back; `bytes` written so far. */
export interface StdoutRedirect {
  restore: () => void;
  bytes: () => number;
}

/**
 * Every process.stdout.write goes to `write` (which answers the bytes it took) until `restore`; a
 * write's callback runs on the next tick, as a stream's would.
 */
function redirectStdout(write: (chunk: string | Uint8Array) => number, onRestore?: () => void): StdoutRedirect {
  const original = process.stdout.write.bind(process.stdout);
  let bytes = 0;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    bytes += write(chunk);
    const cb = rest.find((r): r is () => void => typeof r === 'function');
    if (cb) process.nextTick(cb);
    return true;
  }) as typeof process.stdout.write;
  return {
    restore: () => {
      process.stdout.write = original;
      onRestore?.();
    },
    bytes: () => bytes,
  };
}

/**
 * The in-process handlers log one JSON line per request and emit their EMF metrics on stdout, as
 * in Lambda. The bench keeps both on (their cost is the service's cost) but drops the bytes instead
 * of writing them to the terminal, between which the table would drown. Returns `restore`.
 */
export function discardStdout(): StdoutRedirect {
  return redirectStdout((chunk) => (typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length));
}

/**
 * Stdout written to /dev/null, one synchronous write per call (Node.js writes to a file or
 * character device with fs.writeSync): what serverless-offline's process does with its handlers'
 * lines under `stdout: 'ignore'` (bench/scenarios/http.ts, whose in-process reference must pay the
 * same write).
 */
export function stdoutToDevNull(): StdoutRedirect {
  const fd = openSync('/dev/null', 'w');
  return redirectStdout(
    (chunk) => (typeof chunk === 'string' ? writeSync(fd, chunk) : writeSync(fd, chunk)),
    () => closeSync(fd),
  );
}
