/**
 * The in-process handlers log one JSON line per request and emit their EMF metrics on stdout, as
 * in Lambda. The bench keeps both on (their cost is the service's cost) but drops the bytes instead
 * of writing them to the terminal, between which the table would drown. Returns `restore`.
 */
export function discardStdout(): { restore: () => void; bytes: () => number } {
  const original = process.stdout.write.bind(process.stdout);
  let bytes = 0;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    const cb = rest.find((r): r is () => void => typeof r === 'function');
    if (cb) process.nextTick(cb);
    return true;
  }) as typeof process.stdout.write;
  return {
    restore: () => {
      process.stdout.write = original;
    },
    bytes: () => bytes,
  };
}
