import { describe, expect, it } from 'vitest';

import { APIError, describeError, errorText } from '../src/models/errors';
import { errorSummary, outputText, stripAnsi } from '../src/models/kernelOutput';

describe('describeError', () => {
  it('shows the proxy message for an unreachable backend', () => {
    const body = { message: 'backend at http://127.0.0.1:9 is not reachable: Connection refused' };
    expect(describeError(502, 'Bad Gateway', body)).toBe(body.message);
  });

  it('shows the backend detail', () => {
    expect(describeError(409, 'Conflict', { detail: 'cannot move a run from Success to Cancelled' }))
      .toBe('cannot move a run from Success to Cancelled');
    expect(describeError(422, 'Unprocessable', {
      detail: [{ loc: ['body', 'parameters', 'n'], msg: 'bad' }, { msg: 'worse' }]
    })).toBe('parameters.n: bad; worse');
  });

  it('falls back to the status, never to an HTML page', () => {
    expect(describeError(500, 'Internal Server Error', '<html>...</html>'))
      .toBe('the server answered 500 Internal Server Error');
    expect(describeError(503, 'Unavailable', 'try later')).toBe('503 Unavailable: try later');
    expect(errorText(new APIError(502, 'x'))).toBe('x');
    expect(errorText('y')).toBe('y');
  });
});

describe('kernel output', () => {
  it('reads stream, rich and error messages', () => {
    expect(outputText('stream', { name: 'stdout', text: 'hi\n' })).toBe('hi\n');
    expect(outputText('display_data', { data: { 'text/plain': 'a', 'text/html': '<b>b</b>' } })).toBe('a\n<b>b</b>');
    expect(outputText('status', {})).toBe('');
    expect(outputText('error', { ename: 'UsageError', evalue: 'no task cells' })).toBe('UsageError: no task cells');
  });

  it('strips terminal colours from tracebacks', () => {
    expect(stripAnsi('\u001b[0;31mValueError\u001b[0m: x')).toBe('ValueError: x');
    expect(errorSummary({ traceback: ['\u001b[1mline\u001b[0m'] })).toBe('line');
  });
});
