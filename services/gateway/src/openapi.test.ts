import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { openApiDocument } from './openapi-document';

const committed = path.resolve(__dirname, '..', '..', '..', 'docs', 'openapi.json');

/** @scalar/openapi-parser is ESM-only: it runs in a child Node process, reading the document from stdin. */
function validateWithScalar(doc: unknown): { valid: boolean; errors: unknown[] } {
  const script = `
    import { validate } from '@scalar/openapi-parser';
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    const result = await validate(JSON.parse(text));
    process.stdout.write(JSON.stringify({ valid: result.valid, errors: result.errors ?? [] }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    input: JSON.stringify(doc),
    cwd: __dirname,
    encoding: 'utf8',
  });
  return JSON.parse(out) as { valid: boolean; errors: unknown[] };
}

describe('the OpenAPI document', () => {
  const doc = openApiDocument();

  it('is a valid OpenAPI 3.1 document', () => {
    const result = validateWithScalar(doc);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('a broken document is refused by the same validator', () => {
    const broken = { ...doc, paths: { '/x': { get: { responses: { 200: { content: 'not an object' } } } } } };
    expect(validateWithScalar(broken).valid).toBe(false);
  });

  it('is the committed docs/openapi.json, so the published document is in sync with the protos (npm run gen:openapi)', () => {
    expect(JSON.parse(readFileSync(committed, 'utf8'))).toEqual(doc);
  });
});
