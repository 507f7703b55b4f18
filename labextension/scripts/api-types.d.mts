/** The TypeScript for an OpenAPI document's text (see api-types.mjs). */
export function apiTypes(documentText: string): Promise<string>;
