/**
 * One table test for every error class etlt exports: its literal code, its built-in base,
 * its name, a default message, and membership of the family (`instanceof EtltError`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as etlt from 'etlt';

const {
  EtltError,
  EtltArgTypeError,
  EtltOutOfRangeError,
  EtltUnknownOptionError,
  EtltUnsupportedPlatformError,
  EtltNotBuiltError,
  EtltClosedError,
  EtltAddressError,
  EtltSystemError,
  EtltAlreadyListeningError,
  EtltNotListeningError,
  EtltServerClosedError,
  EtltUsageError,
  EtltOutputError,
  EtltLabError,
  EtltAbortedError,
  EtltRequestAbortedError,
  EtltBodyTooLargeError,
  EtltNotRegisteredError,
  EtltAlreadyRegisteredError,
  EtltWorkerError,
  EtltAppError,
} = etlt;

/** [class, how to build one with no message of ours, code, built-in base, name]. */
const TABLE = [
  [EtltArgTypeError, () => new EtltArgTypeError(), 'ERR_INVALID_ARG_TYPE', TypeError, 'TypeError'],
  [EtltOutOfRangeError, () => new EtltOutOfRangeError(), 'ERR_OUT_OF_RANGE', RangeError, 'RangeError'],
  [EtltUnknownOptionError, () => new EtltUnknownOptionError(), 'ERR_ETLT_UNKNOWN_OPTION', TypeError, 'TypeError'],
  [
    EtltUnsupportedPlatformError,
    () => new EtltUnsupportedPlatformError(),
    'ERR_ETLT_UNSUPPORTED_PLATFORM',
    Error,
    'EtltUnsupportedPlatformError',
  ],
  [EtltNotBuiltError, () => new EtltNotBuiltError(), 'ERR_ETLT_NOT_BUILT', Error, 'EtltNotBuiltError'],
  [EtltClosedError, () => new EtltClosedError(), 'ERR_ETLT_CLOSED', Error, 'EtltClosedError'],
  [EtltAddressError, () => new EtltAddressError(), 'ERR_ETLT_ADDRESS', Error, 'EtltAddressError'],
  [EtltSystemError, () => new EtltSystemError(-11, 'recv'), 'EAGAIN', Error, 'EtltSystemError'],
  [
    EtltAlreadyListeningError,
    () => new EtltAlreadyListeningError(),
    'ERR_SERVER_ALREADY_LISTEN',
    Error,
    'EtltAlreadyListeningError',
  ],
  [EtltNotListeningError, () => new EtltNotListeningError(), 'ERR_SERVER_NOT_RUNNING', Error, 'EtltNotListeningError'],
  [EtltServerClosedError, () => new EtltServerClosedError(), 'ERR_ETLT_SERVER_CLOSED', Error, 'EtltServerClosedError'],
  [EtltUsageError, () => new EtltUsageError(), 'ERR_ETLT_USAGE', Error, 'EtltUsageError'],
  [EtltOutputError, () => new EtltOutputError(), 'ERR_ETLT_OUTPUT', Error, 'EtltOutputError'],
  [EtltLabError, () => new EtltLabError(), 'ERR_ETLT_LAB', Error, 'EtltLabError'],
  [EtltAbortedError, () => new EtltAbortedError(), 'ABORT_ERR', Error, 'EtltAbortedError'],
  [EtltBodyTooLargeError, () => new EtltBodyTooLargeError(), 'ERR_ETLT_BODY_TOO_LARGE', Error, 'EtltBodyTooLargeError'],
  [
    EtltRequestAbortedError,
    () => new EtltRequestAbortedError(),
    'ERR_ETLT_REQUEST_ABORTED',
    Error,
    'EtltRequestAbortedError',
  ],
  [
    EtltNotRegisteredError,
    () => new EtltNotRegisteredError(),
    'ERR_ETLT_NOT_REGISTERED',
    Error,
    'EtltNotRegisteredError',
  ],
  [
    EtltAlreadyRegisteredError,
    () => new EtltAlreadyRegisteredError(),
    'ERR_ETLT_ALREADY_REGISTERED',
    Error,
    'EtltAlreadyRegisteredError',
  ],
  [EtltWorkerError, () => new EtltWorkerError(), 'ERR_ETLT_WORKER', Error, 'EtltWorkerError'],
  [EtltAppError, () => new EtltAppError(), 'ERR_ETLT_APP', Error, 'EtltAppError'],
];

test('every exported error class is in the table', () => {
  const exported = Object.entries(etlt).filter(
    ([name, v]) => typeof v === 'function' && /^Etlt.*Error$/.test(name) && v !== EtltError,
  );
  assert.deepEqual(exported.map(([n]) => n).sort(), TABLE.map(([c]) => c.name).sort());
});

for (const [Class, make, code, Base, name] of TABLE) {
  test(`${Class.name}: code ${code}, a ${Base.name}, a default message, one of the family`, () => {
    const err = make();
    assert.equal(err.code, code);
    assert.ok(err instanceof Class);
    assert.ok(err instanceof Base);
    assert.ok(err instanceof Error);
    assert.ok(err instanceof EtltError, 'instanceof EtltError');
    assert.equal(err.name, name);
    assert.ok(typeof err.message === 'string' && err.message.length > 10, `default message: '${err.message}'`);
    // Each subclass answers instanceof for itself only.
    for (const [Other] of TABLE)
      if (Other !== Class) assert.equal(err instanceof Other, false, `${Class.name} is not a ${Other.name}`);
  });
}

test('EtltError does not claim errors from outside the family', () => {
  assert.equal(new Error('x') instanceof EtltError, false);
  assert.equal(new TypeError('x') instanceof EtltError, false);
  const lookalike = Object.assign(new Error('x'), { code: 'ERR_ETLT_CLOSED' });
  assert.equal(lookalike instanceof EtltError, false);
  assert.equal(null instanceof EtltError, false);
  assert.equal('ERR_ETLT_CLOSED' instanceof EtltError, false);
});

test("EtltSystemError is shaped like Node's system errors, and names an address as Node does", () => {
  const e = new EtltSystemError(98, 'bind', undefined, { address: '0.0.0.0', port: 8080 });
  assert.equal(e.code, 'EADDRINUSE');
  assert.equal(e.errno, -98);
  assert.equal(e.syscall, 'bind');
  assert.equal(e.address, '0.0.0.0');
  assert.equal(e.port, 8080);
  assert.equal(e.message, 'bind EADDRINUSE: address already in use 0.0.0.0:8080');
  const v6 = new EtltSystemError(-98, 'bind', undefined, { address: '::1', port: 80 });
  assert.match(v6.message, / \[::1\]:80$/);
  // An errno libuv's table lacks still gets its name and strerror's text.
  assert.equal(new EtltSystemError(-115, 'connect').message, 'connect EINPROGRESS: operation now in progress');
});
