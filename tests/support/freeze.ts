import { readFileSync } from 'node:fs';

/**
 * Freezes a process with SIGSTOP and returns once the kernel reports it stopped (state `T` in
 * /proc/<pid>/stat), so a request sent next cannot still be answered by a thread that had not yet
 * taken the signal. Where /proc is unreadable (macOS), it returns after sending the signal.
 */
export async function freezeProcess(pid: number, timeoutMs = 2_000): Promise<void> {
  process.kill(pid, 'SIGSTOP');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let state: string | undefined;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    } catch {
      return;
    }
    if (state === 'T' || state === 't') return;
    if (Date.now() > deadline) throw new Error(`process ${pid} did not stop (state ${state})`);
    await new Promise((r) => setTimeout(r, 1));
  }
}
