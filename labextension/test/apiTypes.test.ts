import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { apiTypes } from '../scripts/api-types.mjs';

const root = resolve(__dirname, '..');

describe('the generated wire types', () => {
  it('are what openapi-typescript makes of the committed OpenAPI document', async () => {
    // tests/test_api_types.py checks that document against the server itself
    const expected = await apiTypes(readFileSync(resolve(root, 'openapi.json'), 'utf8'));
    const committed = readFileSync(resolve(root, 'src/api.gen.ts'), 'utf8');
    // run `.venv/bin/python scripts/api_types.py` when this fails
    expect(committed === expected).toBe(true);
  });
});
