'use strict';

const { test, describe } = require('node:test');
const assert = require('node:assert/strict');
const request = require('supertest');
const { createApp } = require('../src/app');

// A fresh app (and store) per test keeps the tests independent of their order.
const newApp = () => createApp({ logRequests: false });

test('GET / answers Hello World as plain text', async () => {
  const res = await request(newApp()).get('/').expect(200);
  assert.equal(res.text, 'Hello World');
  assert.match(res.headers['content-type'], /^text\/plain/);
  assert.equal(res.headers['x-powered-by'], undefined);
});

test('GET /healthz answers ok', async () => {
  const res = await request(newApp()).get('/healthz').expect(200);
  assert.deepEqual(res.body, { status: 'ok' });
});

describe('notes', () => {
  test('create, read, list and delete a note', async () => {
    const app = newApp();
    const created = await request(app)
      .post('/api/notes')
      .send({ title: 'groceries', body: 'milk' })
      .expect(201);
    assert.equal(created.body.title, 'groceries');
    assert.equal(created.body.body, 'milk');
    assert.equal(created.headers.location, `/api/notes/${created.body.id}`);

    const read = await request(app).get(`/api/notes/${created.body.id}`).expect(200);
    assert.deepEqual(read.body, created.body);

    const list = await request(app).get('/api/notes').expect(200);
    assert.deepEqual(list.body, [created.body]);

    await request(app).delete(`/api/notes/${created.body.id}`).expect(204);
    await request(app).get(`/api/notes/${created.body.id}`).expect(404);
    const empty = await request(app).get('/api/notes').expect(200);
    assert.deepEqual(empty.body, []);
  });

  test('body is optional and defaults to an empty string', async () => {
    const res = await request(newApp()).post('/api/notes').send({ title: 'x' }).expect(201);
    assert.equal(res.body.body, '');
  });

  test('ids are not reused after a delete', async () => {
    const app = newApp();
    const first = await request(app).post('/api/notes').send({ title: 'a' }).expect(201);
    await request(app).delete(`/api/notes/${first.body.id}`).expect(204);
    const second = await request(app).post('/api/notes').send({ title: 'b' }).expect(201);
    assert.notEqual(second.body.id, first.body.id);
  });
});

describe('validation answers 400 naming the field', () => {
  const cases = [
    ['a missing title', {}, 'title'],
    ['an empty title', { title: '' }, 'title'],
    ['a blank title', { title: '   ' }, 'title'],
    ['a title that is not a string', { title: 42 }, 'title'],
    ['a title over 100 characters', { title: 'x'.repeat(101) }, 'title'],
    ['a body that is not a string', { title: 'ok', body: ['no'] }, 'body'],
  ];
  for (const [name, payload, field] of cases) {
    test(name, async () => {
      const res = await request(newApp()).post('/api/notes').send(payload).expect(400);
      assert.equal(res.body.field, field);
      assert.match(res.body.error, new RegExp(field));
    });
  }

  test('a title of exactly 100 characters is accepted', async () => {
    await request(newApp()).post('/api/notes').send({ title: 'x'.repeat(100) }).expect(201);
  });

  test('a JSON array instead of an object', async () => {
    const res = await request(newApp()).post('/api/notes').send([1, 2]).expect(400);
    assert.equal(res.body.field, 'body');
  });

  test('malformed JSON', async () => {
    const res = await request(newApp())
      .post('/api/notes')
      .set('Content-Type', 'application/json')
      .send('{"title":')
      .expect(400);
    assert.match(res.body.error, /not valid JSON/);
  });
});

describe('404 answers are JSON', () => {
  for (const path of ['/api/notes/999', '/api/notes/abc', '/api/notes/0']) {
    test(`GET ${path}`, async () => {
      const res = await request(newApp()).get(path).expect(404);
      assert.match(res.body.error, /not found/);
    });
  }

  test('DELETE of a missing note', async () => {
    await request(newApp()).delete('/api/notes/999').expect(404);
  });

  test('an unknown route', async () => {
    const res = await request(newApp()).get('/nope').expect(404);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.equal(res.body.error, 'no route for GET /nope');
  });
});
