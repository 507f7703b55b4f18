import { defineConfig } from 'vitest/config';

// The models are plain TypeScript (no DOM), so tests run in node.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node'
  }
});
