'use strict';

// The server as a real process: it must listen, answer, and exit 0 on the
// signals docker stop and Ctrl-C send.

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { once } = require('node:events');
const path = require('node:path');

const SERVER = path.join(__dirname, '..', 'src', 'server.js');
const BOUND_MS = 10000;

// Starts the server on an ephemeral port on loopback; resolves with the child and its URL.
async function startServer() {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within ${BOUND_MS} ms: ${output}`)), BOUND_MS);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = output.match(/listening on (http:\/\/\S+)/);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening: ${output}`));
    });
  });
  return { child, url };
}

async function exitCodeAfter(child, signal) {
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_MS);
  const [code, killedBy] = await exited;
  clearTimeout(timer);
  return { code, killedBy };
}

for (const signal of ['SIGTERM', 'SIGINT']) {
  test(`the server answers, then exits 0 on ${signal}`, async () => {
    const { child, url } = await startServer();
    const res = await fetch(url, { signal: AbortSignal.timeout(BOUND_MS) });
    assert.equal(await res.text(), 'Hello World');
    assert.deepEqual(await exitCodeAfter(child, signal), { code: 0, killedBy: null });
  });
}

test('a bad PORT is a one-line error and exit code 2', async () => {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, PORT: 'http' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_MS);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  assert.equal(code, 2);
  assert.match(stderr, /PORT must be a number/);
});
