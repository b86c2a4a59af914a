import { type Principal, type Role, ROLES } from '@o2o/kit-grpc';
import type { ApiKeyRecord, ApiKeyStore } from '../auth/api-keys';
import { SCOPES, effectiveScopes } from '../auth/scopes';
import { HttpProblem } from '../http/problem';
import type { JsonSchema, Route } from '../http/route';
import { schemaRef } from './contract';

const ID = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$' };

/** The REST shapes of API key management, published in the OpenAPI document. */
export const API_KEY_SCHEMAS: Record<string, JsonSchema> = {
  ApiKey: {
    type: 'object',
    required: ['id', 'role', 'subject', 'storeIds', 'scopes', 'rateLimitPerMinute', 'status', 'createTime'],
    properties: {
      id: { type: 'string' },
      role: { type: 'string', enum: [...ROLES] },
      subject: { type: 'string', description: "The customer's, staff member's, partner's or admin's id." },
      storeIds: { type: 'array', items: { type: 'string' } },
      scopes: { type: 'array', items: { type: 'string', enum: [...SCOPES] } },
      rateLimitPerMinute: { type: 'integer' },
      description: { type: 'string' },
      status: { type: 'string', enum: ['ACTIVE', 'REVOKED'] },
      createTime: { type: 'string', format: 'date-time' },
      revokeTime: { type: 'string', format: 'date-time' },
    },
    additionalProperties: false,
  },
  CreateApiKeyRequest: {
    type: 'object',
    required: ['role', 'subject'],
    properties: {
      role: { type: 'string', enum: [...ROLES] },
      subject: ID,
      storeIds: { type: 'array', items: ID, maxItems: 200, uniqueItems: true },
      scopes: {
        type: 'array',
        items: { type: 'string', enum: [...SCOPES] },
        uniqueItems: true,
        description: "Narrows the role's scopes; the role's defaults when empty.",
      },
      rateLimitPerMinute: { type: 'integer', minimum: 1, maximum: 1_000_000 },
      description: { type: 'string', maxLength: 500 },
    },
    additionalProperties: false,
  },
  CreateApiKeyResponse: {
    type: 'object',
    required: ['apiKey', 'key'],
    properties: {
      apiKey: schemaRef('ApiKey'),
      key: { type: 'string', description: 'The key itself; shown once, only its hash is stored.' },
    },
    additionalProperties: false,
  },
  ListApiKeysResponse: {
    type: 'object',
    required: ['apiKeys', 'nextPageToken'],
    properties: {
      apiKeys: { type: 'array', items: schemaRef('ApiKey') },
      nextPageToken: { type: 'string' },
    },
    additionalProperties: false,
  },
};

const toJson = (r: ApiKeyRecord) => ({
  id: r.id,
  role: r.principal.role,
  subject: r.principal.subject,
  storeIds: r.principal.storeIds,
  scopes: r.principal.scopes,
  rateLimitPerMinute: r.rateLimitPerMinute,
  description: r.description,
  status: r.status,
  createTime: r.createTime.toISOString(),
  ...(r.revokeTime ? { revokeTime: r.revokeTime.toISOString() } : {}),
});

const ADMIN: readonly Role[] = ['admin'];

/** API keys for shoppers' apps, store devices and partners: issued and revoked by admins. */
export function apiKeyRoutes(keys: ApiKeyStore, defaultRateLimitPerMinute: number): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/admin/api-keys',
      operationId: 'createApiKey',
      summary: 'Issue an API key',
      tag: 'Admin',
      roles: ADMIN,
      scopes: ['keys:manage'],
      requestBody: schemaRef('CreateApiKeyRequest'),
      idempotent: false,
      success: { status: 201, description: 'The key, shown once', schema: schemaRef('CreateApiKeyResponse') },
      async handle(ctx) {
        const body = ctx.body as {
          role: Role;
          subject: string;
          storeIds?: string[];
          scopes?: string[];
          rateLimitPerMinute?: number;
          description?: string;
        };
        if (body.role === 'staff' && !body.storeIds?.length) {
          throw HttpProblem.invalid('a staff key names its stores', [
            { name: 'storeIds', reason: 'must name at least one store' },
          ]);
        }
        const scopes = effectiveScopes(body.role, body.scopes);
        if (body.scopes?.length && scopes.length !== body.scopes.length) {
          const extra = body.scopes.findIndex((s) => !scopes.includes(s));
          throw HttpProblem.invalid('a scope is not allowed for this role', [
            { name: `scopes[${extra}]`, reason: `not allowed for role ${body.role}` },
          ]);
        }
        const principal: Principal = {
          role: body.role,
          subject: body.subject,
          storeIds: body.storeIds ?? [],
          scopes,
        };
        const { record, key } = await keys.create({
          principal,
          rateLimitPerMinute: body.rateLimitPerMinute ?? defaultRateLimitPerMinute,
          description: body.description ?? '',
        });
        return { status: 201, body: { apiKey: toJson(record), key } };
      },
    },
    {
      method: 'GET',
      path: '/v1/admin/api-keys',
      operationId: 'listApiKeys',
      summary: 'List API keys',
      tag: 'Admin',
      roles: ADMIN,
      scopes: ['keys:manage'],
      query: [
        {
          name: 'pageSize',
          description: 'How many per page (1..100; default 20).',
          schema: { type: 'integer', minimum: 1, maximum: 100 },
        },
        {
          name: 'pageToken',
          description: 'The `nextPageToken` of the previous page.',
          schema: { type: 'string', maxLength: 200 },
        },
      ],
      success: { status: 200, description: 'A page of keys', schema: schemaRef('ListApiKeysResponse') },
      async handle(ctx) {
        const limit = (ctx.query.pageSize as number | undefined) ?? 20;
        let after: string | undefined;
        if (ctx.query.pageToken) {
          after = Buffer.from(ctx.query.pageToken as string, 'base64url').toString('utf8');
          if (!after)
            throw HttpProblem.invalid('bad page token', [
              { name: 'pageToken', reason: 'is not a token this API gave' },
            ]);
        }
        const found = await keys.list({ after, limit: limit + 1 });
        const page = found.slice(0, limit);
        const last = page[page.length - 1];
        const nextPageToken = found.length > limit && last ? Buffer.from(last.id).toString('base64url') : '';
        return { status: 200, body: { apiKeys: page.map(toJson), nextPageToken } };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/admin/api-keys/{keyId}',
      operationId: 'revokeApiKey',
      summary: 'Revoke an API key',
      tag: 'Admin',
      roles: ADMIN,
      scopes: ['keys:manage'],
      success: { status: 200, description: 'The revoked key', schema: schemaRef('ApiKey') },
      errors: [404],
      async handle(ctx) {
        const record = await keys.revoke(ctx.params.keyId ?? '', new Date());
        if (!record) throw HttpProblem.notFound('no such API key');
        return { status: 200, body: toJson(record) };
      },
    },
  ];
}
