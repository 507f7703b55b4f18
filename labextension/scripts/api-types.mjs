// The backend's wire types for TypeScript, from its OpenAPI document (openapi-typescript).
//   node scripts/api-types.mjs openapi.json src/api.gen.ts
// Run by scripts/api_types.py; test/apiTypes.test.ts checks the committed output is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const HEADER =
  '/**\n * Generated from openapi.json by scripts/api-types.mjs (openapi-typescript): do not edit.\n' +
  ' * After changing a wire model, run `.venv/bin/python scripts/api_types.py`.\n */\n';

/** The TypeScript for an OpenAPI document's text. */
export async function apiTypes(documentText) {
  const ast = await openapiTS(JSON.parse(documentText), { alphabetize: true });
  return HEADER + astToString(ast);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const [input, output] = process.argv.slice(2);
  writeFileSync(output, await apiTypes(readFileSync(input, 'utf8')));
}
