import { describe, expect, it } from 'vitest';

import { parameterFields, parseParameters, parseValue } from '../src/models/params';
import type { FlowSpec } from '../src/types';
import { taskSpec } from './fixtures';

const spec: FlowSpec = {
  name: 'f',
  tasks: [
    taskSpec({ slug: 'n', type: 'Parameter', is_parameter: true,
               parameter: { default: [1, 2], default_repr: null, required: false } }),
    taskSpec({ slug: 'who', type: 'Parameter', is_parameter: true,
               parameter: { default: null, default_repr: null, required: true } }),
    taskSpec({ slug: 'when', type: 'Parameter', is_parameter: true,
               parameter: { default: null, default_repr: 'datetime.date(2024, 1, 1)', required: false } }),
    taskSpec({ slug: 'x-1', name: 'x' })
  ],
  edges: [],
  parameters: ['n', 'who', 'when'],
  reference_tasks: [],
  schedule: null,
  code_location: null
};

describe('parameterFields', () => {
  it('has one field per parameter with its JSON default', () => {
    expect(parameterFields(spec)).toEqual([
      { name: 'n', required: false, defaultText: '[1,2]', hint: null },
      { name: 'who', required: true, defaultText: '', hint: null },
      { name: 'when', required: false, defaultText: '', hint: 'datetime.date(2024, 1, 1)' }
    ]);
  });
});

describe('parseParameters', () => {
  const fields = parameterFields(spec);

  it('sends changed and required values, parsed as JSON where they parse', () => {
    expect(parseParameters(fields, { n: '[1, 2, 3]', who: 'ada', when: '' })).toEqual({
      values: { n: [1, 2, 3], who: 'ada' },
      errors: []
    });
  });

  it('leaves defaults to the backend', () => {
    expect(parseParameters(fields, { n: '[1,2]', who: '"ada"' }).values).toEqual({ who: 'ada' });
  });

  it('names a missing required parameter', () => {
    expect(parseParameters(fields, { who: '  ' }).errors).toEqual(["parameter 'who' is required"]);
  });

  it.each<[string, unknown]>([
    ['3', 3],
    ['"3"', '3'],
    ['true', true],
    ['{"a": 1}', { a: 1 }],
    ['hello world', 'hello world']
  ])('reads %s', (text, value) => {
    expect(parseValue(text)).toEqual(value);
  });
});
