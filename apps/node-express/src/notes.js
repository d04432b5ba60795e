'use strict';

// An in-memory notes store. It lives as long as the process: enough to show a
// real JSON API in a container without bringing a database into the picture.

const TITLE_MAX_LENGTH = 100;

function createNoteStore() {
  const notes = new Map();
  let nextId = 1;

  return {
    list() {
      return [...notes.values()];
    },
    get(id) {
      return notes.get(id);
    },
    add({ title, body = '' }) {
      const note = { id: nextId++, title, body, createdAt: new Date().toISOString() };
      notes.set(note.id, note);
      return note;
    },
    remove(id) {
      return notes.delete(id);
    },
  };
}

// Returns null when the input is a valid new note, else { field, message }
// so that a 400 answer can name the field the client has to fix.
function validateNote(input) {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { field: 'body', message: 'request body must be a JSON object' };
  }
  const { title, body } = input;
  if (typeof title !== 'string' || title.trim() === '') {
    return { field: 'title', message: 'title is required and must be a non-empty string' };
  }
  if (title.length > TITLE_MAX_LENGTH) {
    return { field: 'title', message: `title must be at most ${TITLE_MAX_LENGTH} characters` };
  }
  if (body !== undefined && typeof body !== 'string') {
    return { field: 'body', message: 'body must be a string' };
  }
  return null;
}

module.exports = { createNoteStore, validateNote, TITLE_MAX_LENGTH };
