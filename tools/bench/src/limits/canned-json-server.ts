import type { Server } from 'node:http';
import express from 'express';

/**
 * W6's limit: the same HTTP stack as the Admin API (Node's http server under
 * express, which Nest's platform-express uses) answering a canned JSON body
 * of the same size as the route it stands in for: everything a read route
 * costs besides its own work.
 */
export async function startCannedJsonServer(body: string): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/canned', (_req, res) => {
    res.type('application/json').send(body);
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/canned`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
