import { createServer, type Server } from 'node:net';

/** Listens on a port the kernel picks (127.0.0.1) and answers the server with its port. */
function listenAnywhere(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      if (port > 0) resolve({ server, port });
      else server.close(() => reject(new Error('could not pick a free port')));
    });
  });
}

/**
 * `n` distinct free ports: all are held open until every one is picked, then released, so the
 * kernel cannot hand the same port out twice (two calls of freePort in a row can get the same one).
 */
export async function freePorts(n: number): Promise<number[]> {
  const held: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const { server, port } = await listenAnywhere();
      held.push(server);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** A free TCP port on 127.0.0.1 (released before it is returned, so a server can take it). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('could not pick a free port');
  return port;
}
