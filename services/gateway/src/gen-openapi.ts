// Writes docs/openapi.json from the route table and the proto descriptors (`npm run gen:openapi`), or with
// `--check` fails when the committed document differs from what the code generates.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { openApiDocument } from './openapi-document';

const target = path.resolve(__dirname, '..', '..', '..', 'docs', 'openapi.json');
const text = `${JSON.stringify(openApiDocument(), null, 2)}\n`;
if (process.argv.includes('--check')) {
  const committed = readFileSync(target, 'utf8');
  if (committed !== text) {
    process.stderr.write('docs/openapi.json is stale: run `npm run gen:openapi` and commit it\n');
    process.exit(1);
  }
  process.stdout.write('docs/openapi.json matches the routes and the protos\n');
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target}\n`);
}
