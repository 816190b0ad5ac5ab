import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JOB_FAILURE } from '../../engine/index.js';
import { errorFromEngine, failureAnswer } from './arango-errors.js';
import { ERRORS } from './error-table.js';

test("a handler's error keeps its own HTTP status and errorNum; without an errorNum a status is its own number", () => {
  assert.deepEqual(failureAnswer({ code: JOB_FAILURE.handlerError, message: 'teapot', details: { status: 418, errorNum: 1234 } }),
    { status: 418, errorNum: 1234, message: 'teapot' });
  assert.deepEqual(failureAnswer({ code: JOB_FAILURE.handlerError, message: 'gone', details: { statusCode: 503 } }),
    { status: 503, errorNum: 503, message: 'gone' });
  assert.deepEqual(failureAnswer({ code: JOB_FAILURE.handlerError, message: 'plain', details: null }),
    { status: 500, errorNum: ERRORS.internal.errorNum, message: 'plain' });
});

test('a status outside 400-599, or not an integer, is not taken from a handler', () => {
  for (const status of [200, 302, 600, 404.5, '404']) {
    assert.equal(failureAnswer({ code: JOB_FAILURE.handlerError, message: 'x', details: { status } }).status, 500, String(status));
  }
});

test("engine failures that are not the handler's own are internal errors, whatever their details say", () => {
  for (const code of [JOB_FAILURE.workerTerminated, JOB_FAILURE.badResponse, 'ERR_SOMETHING_NEW']) {
    assert.deepEqual(failureAnswer({ code, message: 'm', details: { status: 418 } }), { status: 500, errorNum: ERRORS.internal.errorNum, message: 'm' });
  }
});

test('submit errors map to ArangoDB answers; unknown ones are bugs, left to rethrow', () => {
  assert.deepEqual(errorFromEngine({ code: 'ERR_QUEUE_FULL' }), { status: 500, errorNum: 21003, message: 'named queue is full' });
  assert.deepEqual(errorFromEngine({ code: 'ERR_ENGINE_CLOSED' }), { status: 503, errorNum: 30, message: 'shutdown in progress' });
  assert.equal(errorFromEngine({ code: JOB_FAILURE.handlerError }), undefined);
  assert.equal(errorFromEngine(new TypeError('bug')), undefined);
});
