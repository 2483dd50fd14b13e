import { defineConfig } from 'drizzle-kit';

// `npx drizzle-kit generate` (in libs/tracking) writes a new migration after a schema change.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/schema.ts',
  out: './drizzle',
});
