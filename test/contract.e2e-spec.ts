import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PROBLEM_CODES } from '../server/src/common/problem-codes';
import { ALL_SCOPES } from '../server/src/credentials/scopes';
import { buildOpenApiDocument } from '../server/src/openapi/export-document';
import { call, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * "The OpenAPI document is the contract": what /api/docs-json says is what the API does, and
 * what the console compiles against. openapi-typescript and openapi-fetch are ESM and Jest runs
 * CommonJS, so they run in child processes: the spec generates a client from the served
 * document, compiles a driver against it with `tsc --strict`, runs it against the app and checks
 * every exchange it saw against the document.
 */

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const COMMITTED_TYPES = join(ROOT, 'client/src/app/api/openapi.ts');
const PROBLEM = 'application/problem+json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

type Schema = Record<string, any>;
type Document = Record<string, any>;

function operations(document: Document): Array<{ path: string; method: string; operation: Schema }> {
  return Object.entries(document.paths as Record<string, Schema>).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ path, method, operation: item[method] })),
  );
}

function resolve(document: Document, schema: Schema): Schema {
  if (!schema.$ref) return schema;
  const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
  const target = name && document.components.schemas[name];
  if (!target) throw new Error(`unresolved ${schema.$ref}`);
  return resolve(document, target);
}

/** Every schema in the document, named by where it sits, with property names where there are. */
function allSchemas(document: Document): Array<{ at: string; property?: string; schema: Schema }> {
  const found: Array<{ at: string; property?: string; schema: Schema }> = [];
  const visit = (schema: Schema | undefined, at: string, property?: string) => {
    if (!schema || typeof schema !== 'object') return;
    found.push({ at, property, schema });
    for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) visit(child, `${at}.${name}`, name);
    if (schema.items) visit(schema.items, `${at}[]`, property);
    for (const part of schema.allOf ?? []) visit(part, `${at}(allOf)`, property);
  };
  for (const [name, schema] of Object.entries(document.components.schemas as Record<string, Schema>)) visit(schema, name);
  for (const { path, method, operation } of operations(document)) {
    const at = `${method.toUpperCase()} ${path}`;
    for (const parameter of operation.parameters ?? []) visit(parameter.schema, `${at} ?${parameter.name}`, parameter.name);
    for (const [type, media] of Object.entries((operation.requestBody?.content ?? {}) as Record<string, Schema>)) {
      visit(media.schema, `${at} body ${type}`);
    }
    for (const [status, response] of Object.entries(operation.responses as Record<string, Schema>)) {
      for (const [type, media] of Object.entries((response.content ?? {}) as Record<string, Schema>)) {
        visit(media.schema, `${at} ${status} ${type}`);
      }
    }
  }
  return found;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * What is wrong with `value` as an instance of `schema` (OpenAPI 3.0, the subset this document
 * uses). Members the schema does not declare are wrong too: the document must name everything
 * the API sends.
 */
function violations(document: Document, schema: Schema, value: unknown, at = '$'): string[] {
  schema = resolve(document, schema);
  if (schema.allOf) return schema.allOf.flatMap((part: Schema) => violations(document, part, value, at));
  if (value === null) return schema.nullable ? [] : [`${at}: null but not nullable`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`];
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return [`${at}: not a string`];
      if (schema.format === 'date-time' && !(DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)))) return [`${at}: not a date-time`];
      if (schema.maxLength !== undefined && value.length > schema.maxLength) return [`${at}: longer than ${schema.maxLength}`];
      return [];
    case 'integer':
      return Number.isInteger(value) ? [] : [`${at}: not an integer`];
    case 'number':
      return typeof value === 'number' ? [] : [`${at}: not a number`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: not a boolean`];
    case 'array':
      if (!Array.isArray(value)) return [`${at}: not an array`];
      return value.flatMap((item, i) => violations(document, schema.items, item, `${at}[${i}]`));
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: not an object`];
      const record = value as Record<string, unknown>;
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      return [
        ...(schema.required ?? []).filter((name: string) => !(name in record)).map((name: string) => `${at}.${name}: missing`),
        ...Object.keys(record)
          .filter((name) => !(name in properties))
          .map((name) => `${at}.${name}: not in the document`),
        ...Object.entries(record)
          .filter(([name]) => name in properties)
          .flatMap(([name, member]) => violations(document, properties[name], member, `${at}.${name}`)),
      ];
    }
    default:
      return [`${at}: schema without a type`];
  }
}

describe('The OpenAPI document is the contract (e2e)', () => {
  let app: TestApp;
  let served: Document;
  let exported: Document;
  let work: string;
  beforeAll(async () => {
    // First: building it the way `npm run openapi:export` does silences Nest's static logger,
    // which the app started next configures again for itself.
    exported = await buildOpenApiDocument();
    app = await startTestApp();
    const res = await call(app, '/api/docs-json');
    expect(res.status).toBe(200);
    served = res.body;
    work = mkdtempSync(join(tmpdir(), 'contract-'));
    // The driver resolves openapi-fetch (and tsc its types) from the project's node_modules.
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
    writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    writeFileSync(join(work, 'openapi.json'), JSON.stringify(served));
  });
  afterAll(async () => {
    if (work) rmSync(work, { recursive: true, force: true });
    await app?.close();
  });

  it('is the document `npm run openapi:export` writes without a server', () => {
    expect(JSON.parse(JSON.stringify(exported))).toEqual(served);
  });

  it('types every timestamp as a date-time string and every id as an integer; no untyped schema', () => {
    const wrong: string[] = [];
    for (const { at, property, schema } of allSchemas(served)) {
      if (schema.$ref || schema.allOf) continue;
      if (!schema.type) wrong.push(`${at}: no type`);
      // A map is typed by its values' schema (Record<string, T>); `true` or nothing is untyped.
      const typedMap = typeof schema.additionalProperties === 'object' && schema.additionalProperties !== null;
      if (schema.type === 'object' && !schema.properties && !typedMap) wrong.push(`${at}: an object without properties`);
      if (schema.type === 'array' && !schema.items) wrong.push(`${at}: an array without items`);
      if (schema.type === 'number') wrong.push(`${at}: number (ids, counts and statuses are integers)`);
      if (property && /(_at|^not_before)$/.test(property) && !(schema.type === 'string' && schema.format === 'date-time')) {
        wrong.push(`${at}: a timestamp that is not a date-time string`);
      }
      if (property && /^(id|key_id)$/.test(property) && schema.type !== 'integer') wrong.push(`${at}: an id that is not an integer`);
      for (const name of schema.required ?? []) if (!schema.properties?.[name]) wrong.push(`${at}: requires undeclared ${name}`);
    }
    expect(wrong).toEqual([]);

    const { ApiKeyResponse, CreateApiKeyRequest, VerifyKeyResponse } = served.components.schemas;
    for (const name of ['last_used_at', 'expires_at', 'not_before']) expect(ApiKeyResponse.properties[name].nullable).toBe(true);
    expect(ApiKeyResponse.required).toEqual(
      expect.arrayContaining(['id', 'name', 'key_hint', 'scopes', 'created_at', 'last_used_at', 'expires_at', 'not_before']),
    );
    expect(CreateApiKeyRequest.required).toEqual(['name']);
    expect(CreateApiKeyRequest.properties.expires_at).toMatchObject({ type: 'string', format: 'date-time', nullable: true });
    expect(VerifyKeyResponse.properties.expires_at).toMatchObject({ type: 'string', format: 'date-time', nullable: true });
    expect(served.components.schemas.Scope.enum).toEqual(ALL_SCOPES);
  });

  it('declares every error as application/problem+json with the Problem schema, whose code lists every ProblemCode', () => {
    const problem = served.components.schemas.Problem;
    expect(problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status']));
    expect(resolve(served, problem.properties.code.allOf?.[0] ?? problem.properties.code).enum).toEqual([...PROBLEM_CODES]);
    const wrong: string[] = [];
    for (const { path, method, operation } of operations(served)) {
      for (const [status, response] of Object.entries(operation.responses as Record<string, Schema>)) {
        if (Number(status) < 400) continue;
        // The health check answers 503 with its usual JSON body, for probes: not a problem.
        if (path === '/api/health' && status === '503') continue;
        const types = Object.keys(response.content ?? {});
        if (types.join() !== PROBLEM || response.content[PROBLEM].schema.$ref !== '#/components/schemas/Problem') {
          wrong.push(`${method.toUpperCase()} ${path} ${status}: ${types.join() || 'no content'}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    const responses = (path: string, method: string) => Object.keys(served.paths[path][method].responses);
    expect(responses('/api/keys/verify', 'post')).toEqual(expect.arrayContaining(['200', '400', '401', '422', '429', '503']));
    expect(responses('/api/keys', 'post')).toEqual(expect.arrayContaining(['201', '401', '403', '409', '422', '429']));
    expect(responses('/api/keys/{id}', 'delete')).toEqual(expect.arrayContaining(['200', '400', '401', '403', '404']));
    expect(responses('/api/keys/llm/byor', 'get')).toEqual(expect.arrayContaining(['200', '401', '403', '502', '503']));
  });

  it('says which credentials each route takes: none on public routes, no JWT claim on API-key schemes, no empty servers', () => {
    expect(served.servers).toEqual([expect.objectContaining({ url: '/' })]);
    const schemes = served.components.securitySchemes;
    expect(Object.keys(schemes).sort()).toEqual(['bearer', 'cookie', 'mcp', 'service', 'xsrf']);
    for (const scheme of Object.values(schemes) as Schema[]) expect(scheme.bearerFormat).toBeUndefined();

    const security = Object.fromEntries(operations(served).map(({ path, method, operation }) => [`${method} ${path}`, operation.security]));
    for (const route of ['get /api/health', 'get /api/health/live', 'get /api/version', 'get /api/auth/login']) {
      expect([route, security[route]]).toEqual([route, []]);
    }
    expect(security['post /api/keys/verify']).toEqual([{ service: [] }]);
    expect(security['get /api/keys']).toEqual([{ bearer: [] }, { cookie: [] }, { mcp: [] }]);
    expect(security['post /api/keys']).toEqual([{ bearer: [] }, { cookie: [], xsrf: [] }, { mcp: [] }]);
    expect(security['delete /api/keys/{id}']).toEqual([{ bearer: [] }, { cookie: [], xsrf: [] }, { mcp: [] }]);
    expect(JSON.stringify(served)).not.toContain('x-public');

    const ids = operations(served).map(({ operation }) => operation.operationId);
    expect(ids.every((id) => /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('generates a client that compiles with tsc --strict, works against the app, and matches the committed console types', async () => {
    const node = process.execPath;
    await run(node, [join(ROOT, 'scripts/openapi-types.mjs'), join(work, 'openapi.json'), join(work, 'api.ts')]);
    // Forgetting `npm run openapi:types` after changing the API fails here.
    expect(readFileSync(join(work, 'api.ts'), 'utf8')).toBe(readFileSync(COMMITTED_TYPES, 'utf8'));

    copyFileSync(join(ROOT, 'test/fixtures/contract/driver.ts'), join(work, 'driver.ts'));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const flags = ['--strict', '--noEmit', 'false', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022'];
    await run(node, [tsc, ...flags, '--types', 'node', '--skipLibCheck', '--outDir', 'out', 'driver.ts'], { cwd: work }).catch(
      (error: { stdout?: string }) => {
        throw new Error(`the driver does not compile against the generated client:\n${error.stdout}`);
      },
    );

    const [token, adminToken] = await Promise.all([passwordToken(app, 'alice'), passwordToken(app, 'admin')]);
    const { stdout } = await run(node, [join(work, 'out/driver.js'), app.url, token, app.config.verification.serviceToken, adminToken]);
    const seen = JSON.parse(stdout);

    expect(seen.liveness).toBe('ok');
    expect(seen.health).toEqual({ status: 'ok', database: 'up' });
    expect(seen.apiVersion).toBe(served.info.version);
    expect(seen.unauthenticated).toEqual({ status: 401, code: 'missing_credential' });
    expect(seen.created).toMatchObject({ status: 201, keyPrefix: 'sk-oh-', scopes: ['keys:read', 'keys:write', 'mcp'], lastUsedAt: null });
    expect(seen.created.expiresAt).toBe(seen.created.requestedExpiry);
    expect(seen.duplicate).toEqual({ status: 409, code: 'duplicate_name', fields: ['name'] });
    expect(seen.listed).toBe(true);
    expect(seen.page.size).toBe(1);
    expect(seen.current).toEqual({ authType: 'api_key', id: seen.created.id, scopes: ['keys:read', 'keys:write', 'mcp'] });
    expect(seen.overreach).toEqual({ status: 403, code: 'insufficient_scope' });
    expect(seen.llmKeyPrefix).toBe('sk-oh-llm-');
    expect(seen.verified).toEqual({
      valid: true,
      code: 'VALID',
      user_id: expect.any(String),
      key_id: seen.created.id,
      kind: 'api_key',
      scopes: ['keys:read', 'keys:write', 'mcp'],
      expires_at: seen.created.expiresAt,
    });
    expect(seen.tooLong).toEqual({ status: 422, code: 'validation_failed', fields: ['key'] });
    expect(seen.deleted).toBe('API key deleted successfully');
    expect(seen.deletedAgain).toEqual({ status: 404, code: 'api_key_not_found' });
    expect(seen.verifiedAfterDelete.valid).toBe(false);
    expect(seen.listedAfterDelete).toBe(false);
    expect(seen.usage).toEqual({ granularity: 'day', buckets: 30, requests: expect.any(Number) });
    expect(seen.usage.requests).toBeGreaterThanOrEqual(1);
    expect(seen.audit).toEqual({ types: ['api_key.revoked', 'api_key.created'], next: null });
    expect(seen.badAuditType).toEqual({ status: 422, code: 'validation_failed' });
    expect(seen.rotated).toEqual({ status: 201, replaced: true, keyStatus: 'active' });
    expect(seen.rotatedAgain).toEqual({ status: 409, code: 'already_rotated' });
    expect(seen.leaked).toEqual(['true_positive']);
    expect(seen.policy).toEqual({ maxLifetimeDays: 365, defaultScopes: ['keys:read', 'keys:write', 'llm:read', 'llm:write', 'mcp'] });
    expect(seen.notAdmin).toEqual({ status: 403, code: 'admin_role_required' });
    // The replaced key of the rotation (in its grace period) and the key about to be revoked.
    expect(seen.adminKeys).toEqual({ size: 1, total: 2, next: 1 });
    expect(seen.badCursor).toEqual({ status: 400, code: 'invalid_cursor' });
    expect(seen.adminRevoked).toBe('API key revoked');
    expect(seen.adminRevokedAgain).toEqual({ status: 404, code: 'api_key_not_found' });
    expect(seen.noReason).toEqual({ status: 422, code: 'validation_failed' });
    expect(seen.bulk).toEqual({ revoked: [], not_found: [expect.any(Number)] });
    expect(seen.adminAudit).toEqual({ reason: 'contract test', by_admin: true });
    expect(seen.csvLines).toBe(4); // header, created, revoked, and the empty string after the last CRLF
    expect(seen.policyUpdated).toEqual({ warningDays: 14, source: 'database' });
    expect(seen.policyRefused).toEqual({ status: 422, code: 'validation_failed' });
    expect(seen.overview).toEqual({ days: 30, hours: 24 });

    // Every answer the driver got is one the document declares, in the declared media type and
    // shape: status, content type and body schema.
    const wrong: string[] = [];
    for (const exchange of seen.exchanges as Array<{ method: string; path: string; status: number; contentType: string; body: unknown }>) {
      const at = `${exchange.method.toUpperCase()} ${exchange.path} ${exchange.status}`;
      const response = served.paths[exchange.path]?.[exchange.method]?.responses?.[exchange.status];
      if (!response) {
        wrong.push(`${at}: not declared`);
        continue;
      }
      const mediaType = exchange.contentType?.split(';')[0].trim() ?? '';
      const media = response.content?.[mediaType];
      if (!media) {
        wrong.push(`${at}: ${mediaType} not declared (${Object.keys(response.content ?? {}).join(', ')})`);
        continue;
      }
      wrong.push(...violations(served, media.schema, exchange.body).map((v) => `${at}: ${v}`));
    }
    expect(wrong).toEqual([]);
    expect(seen.exchanges).toHaveLength(40);
  });
});
