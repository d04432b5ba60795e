'use strict';

// The Express application, without a listening socket: src/server.js listens,
// and the tests drive the app in-process with supertest.

const express = require('express');
const morgan = require('morgan');
const { createNoteStore, validateNote } = require('./notes');

function createApp({ store = createNoteStore(), logRequests = true } = {}) {
  const app = express();
  app.disable('x-powered-by');

  if (logRequests) {
    // One line per request on stdout: a container's logs are its stdout.
    app.use(morgan('tiny'));
  }
  app.use(express.json({ limit: '16kb' }));

  app.get('/', (req, res) => {
    res.type('text/plain').send('Hello World');
  });

  app.get('/healthz', (req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/api/notes', (req, res) => {
    res.json(store.list());
  });

  app.post('/api/notes', (req, res) => {
    const problem = validateNote(req.body);
    if (problem) {
      res.status(400).json({ error: problem.message, field: problem.field });
      return;
    }
    const note = store.add({ title: req.body.title, body: req.body.body });
    res.status(201).location(`/api/notes/${note.id}`).json(note);
  });

  // Ids are positive integers; anything else cannot name a note, so it is a 404 too.
  const noteId = (req) => (/^[1-9][0-9]*$/.test(req.params.id) ? Number(req.params.id) : NaN);

  app.get('/api/notes/:id', (req, res) => {
    const note = store.get(noteId(req));
    if (!note) {
      res.status(404).json({ error: `note ${req.params.id} not found` });
      return;
    }
    res.json(note);
  });

  app.delete('/api/notes/:id', (req, res) => {
    if (!store.remove(noteId(req))) {
      res.status(404).json({ error: `note ${req.params.id} not found` });
      return;
    }
    res.status(204).end();
  });

  app.use((req, res) => {
    res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
  });

  // Express knows a handler is an error handler by its four parameters.
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    if (err.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'request body is not valid JSON' });
      return;
    }
    if (err.status >= 400 && err.status < 500) {
      res.status(err.status).json({ error: err.message });
      return;
    }
    console.error(err);
    res.status(500).json({ error: 'internal server error' });
  });

  return app;
}

module.exports = { createApp };
