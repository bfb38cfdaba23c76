// Writes the OpenAPI document (what the app serves at /api/docs-json) to a file, without a
// server or a database: `npm run openapi:export` builds the server first, then runs this.
//   node scripts/openapi-export.mjs [output file, default dist/openapi.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { buildOpenApiDocument } = require(join(ROOT, 'dist/server/src/openapi/export-document.js'));

const output = resolve(process.argv[2] ?? join(ROOT, 'dist/openapi.json'));
const document = await buildOpenApiDocument();
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, `${JSON.stringify(document, null, 2)}\n`);
console.log(`OpenAPI ${document.openapi} document: ${Object.keys(document.paths).length} paths -> ${output}`);
