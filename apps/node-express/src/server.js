'use strict';

// Listens on PORT (default 3000) on all interfaces, and stops cleanly on
// SIGTERM (docker stop) and SIGINT (Ctrl-C). In a distroless or scratch image
// node is PID 1 and there is no init: the kernel gives PID 1 no default signal
// handlers, so without the handlers below `docker stop` would wait its grace
// period and then SIGKILL the container.

const { createApp } = require('./app');

// Well under docker stop's default 10 s grace period, so we exit before SIGKILL.
const SHUTDOWN_TIMEOUT_MS = 5000;

function parsePort(text) {
  const port = Number(text);
  if (!/^[0-9]+$/.test(text) || port > 65535) {
    console.error(`node-express: PORT must be a number from 0 to 65535, got "${text}"`);
    process.exit(2);
  }
  return port;
}

const port = parsePort(process.env.PORT ?? '3000');
const host = process.env.HOST ?? '0.0.0.0';

const server = createApp().listen(port, host, () => {
  const address = server.address();
  console.log(`node-express listening on http://${address.address}:${address.port}`);
});

server.on('error', (err) => {
  console.error(`node-express: cannot listen on ${host}:${port}: ${err.message}`);
  process.exit(1);
});

function shutDown(signal) {
  console.log(`node-express: ${signal} received, closing the server`);
  // close() stops accepting connections, closes idle keep-alive ones and calls
  // back when the requests in flight have finished; the timer bounds the wait.
  setTimeout(() => {
    console.error(`node-express: requests still open after ${SHUTDOWN_TIMEOUT_MS} ms, exiting`);
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS).unref();
  server.close((err) => process.exit(err ? 1 : 0));
}

process.once('SIGTERM', shutDown);
process.once('SIGINT', shutDown);
