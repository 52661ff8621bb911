import type { Server } from 'node:http';
import express from 'express';

/**
 * W6's limit and W5's HTTP yardstick: the same HTTP stack as the Admin API
 * (Node's http server under express, which Nest's platform-express uses)
 * answering a canned JSON body of the same size as the route it stands in
 * for: everything a route costs besides its own work. It answers any method
 * (W6 reads with GET, W5's routes are POSTs). `server` is the HTTP server,
 * for a socket.io server to share its port as the hub shares the Admin API's.
 */
export async function startCannedJsonServer(body: string): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  app.all('/canned', (_req, res) => {
    res.type('application/json').send(body);
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/canned`,
    server,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
