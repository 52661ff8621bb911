/**
 * W5's limit, as a process of its own (`dist/tools/bench/socket-echo-server.js`,
 * started by `startSocketEchoServer`), so the server does not share the
 * benchmark's event loop, as the Admin API does not: a socket.io server on
 * the same HTTP stack as the hub (Node's http server under express, socket.io
 * attached to it) that acknowledges every `echo` message with the message
 * itself, and answers `/canned` with a canned JSON body (the HTTP share of a
 * round trip that starts with a REST call).
 *
 * Started over IPC: the parent sends an EchoServerStart, the child answers
 * with its port, and exits when the parent disconnects or ends it.
 */
import { Server } from 'socket.io';
import { startCannedJsonServer } from './canned-json-server';
import { ECHO_EVENT, ECHO_NAMESPACE, type EchoServerReady, type EchoServerStart } from './socket-echo';

function isStart(message: unknown): message is EchoServerStart {
  return typeof message === 'object' && message !== null && typeof (message as EchoServerStart).cannedBody === 'string';
}

process.once('message', (message: unknown) => {
  if (!isStart(message)) {
    process.stderr.write('socket-echo-server: expected { cannedBody, maxHttpBufferSize } first\n');
    process.exit(2);
  }
  void startCannedJsonServer(message.cannedBody).then(
    (canned) => {
      const io = new Server(canned.server, { serveClient: false, maxHttpBufferSize: message.maxHttpBufferSize });
      io.of(ECHO_NAMESPACE).on('connection', (socket) => {
        socket.on(ECHO_EVENT, (payload: unknown, ack: unknown) => {
          if (typeof ack === 'function') ack(payload);
        });
      });
      const address = canned.server.address();
      const ready: EchoServerReady = { port: typeof address === 'object' && address ? address.port : 0 };
      process.send?.(ready);
    },
    (error: unknown) => {
      process.stderr.write(`socket-echo-server: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
});
// The parent went away (or closed the channel to end it): nothing is left to answer.
process.on('disconnect', () => process.exit(0));
