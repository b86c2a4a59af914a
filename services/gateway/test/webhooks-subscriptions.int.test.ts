// The webhook use cases against the real database: create (secret once, sealed at rest), get, list with pages,
// update, rotate, delete; partners see only their own (another's id is 404), other roles 403; every bad input is a
// 400 naming its fields with nothing written; every answer matches its published JSON Schema.
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { HttpProblem } from '../src/http/problem';
import { WEBHOOK_SCHEMAS } from '../src/webhooks';
import { ADMIN, partner, SHOPPER, startHarness, type WebhooksHarness } from './webhooks-harness';

let h: WebhooksHarness;
beforeAll(async () => {
  h = await startHarness({ WEBHOOK_MAX_SUBSCRIPTIONS_PER_OWNER: '5' });
});
afterAll(async () => {
  await h?.stop();
});

const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true }));
/** Asserts a value matches a named schema. */
function conforms(name: keyof typeof WEBHOOK_SCHEMAS, value: unknown): void {
  const validate = ajv.compile(WEBHOOK_SCHEMAS[name] ?? {});
  if (!validate(value)) throw new Error(`${name}: ${ajv.errorsText(validate.errors)}`);
}

/** The HttpProblem a call fails with. */
async function problem(call: Promise<unknown>): Promise<HttpProblem> {
  try {
    await call;
  } catch (error) {
    if (error instanceof HttpProblem) return error;
    throw error;
  }
  throw new Error('expected an HttpProblem');
}

/** The names of the fields a 400 reports. */
async function invalidFields(call: Promise<unknown>): Promise<string[]> {
  const p = await problem(call);
  expect(p.status).toBe(400);
  return p.invalidParams.map((i) => i.name);
}

/** Counts of every webhook collection, to show nothing was written. */
async function snapshot() {
  const names = ['webhook_subscriptions', 'webhook_deliveries', 'webhook_sequences'];
  const counts = await Promise.all(names.map((n) => h.db.collection(n).countDocuments()));
  const versions = await h.db
    .collection('webhook_subscriptions')
    .find({}, { projection: { version: 1 } })
    .toArray();
  return { counts, versions: versions.map((v) => `${String(v._id)}@${String(v.version)}`).sort() };
}

const goodBody = {
  url: 'https://partner-a.example/hooks',
  eventTypes: ['o2o.orders.v1.OrderConfirmed', 'o2o.delivery.v1.*'],
};

describe('create and read', () => {
  it('answers the subscription and its secret once; the secret is stored sealed, never shown again', async () => {
    const a = partner('p-create', ['s-1', 's-2']);
    const created = await h.webhooks.useCases.createSubscription(a, {
      ...goodBody,
      filters: { storeIds: ['s-1'], channels: ['CHANNEL_MARKETPLACE'] },
      description: 'order feed',
    });
    conforms('CreateWebhookSubscriptionResponse', created);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.subscription).toMatchObject({
      owner: { role: 'partner', subject: 'p-create', storeIds: ['s-1', 's-2'] },
      url: 'https://partner-a.example/hooks',
      eventTypes: goodBody.eventTypes,
      filters: { storeIds: ['s-1'], channels: ['CHANNEL_MARKETPLACE'] },
      description: 'order feed',
      status: 'ACTIVE',
      version: 1,
    });
    const stored = await h.db.collection('webhook_subscriptions').findOne({ _id: created.subscription.id as never });
    expect(JSON.stringify(stored)).not.toContain(created.secret);
    expect(JSON.stringify(stored)).not.toContain(created.secret.slice(6));

    const got = await h.webhooks.useCases.getSubscription(a, created.subscription.id);
    conforms('WebhookSubscription', got);
    expect(got).toEqual(created.subscription);
    expect(JSON.stringify(got)).not.toContain('whsec_');
  });

  it('lists newest first in pages with opaque tokens; a partner its own, an admin everyone', async () => {
    const lister = partner('p-list');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (await h.webhooks.useCases.createSubscription(lister, { ...goodBody, description: `#${i}` })).subscription.id,
      );
    }
    await h.webhooks.useCases.createSubscription(partner('p-other'), goodBody);
    const first = await h.webhooks.useCases.listSubscriptions(lister, { pageSize: 2 });
    conforms('ListWebhookSubscriptionsResponse', first);
    expect(first.subscriptions.map((s) => s.id)).toEqual([ids[2], ids[1]]);
    expect(first.nextPageToken).not.toBe('');
    const second = await h.webhooks.useCases.listSubscriptions(lister, { pageSize: 2, pageToken: first.nextPageToken });
    expect(second.subscriptions.map((s) => s.id)).toEqual([ids[0]]);
    expect(second.nextPageToken).toBe('');
    const all = await h.webhooks.useCases.listSubscriptions(ADMIN, { pageSize: 100 });
    expect(new Set(all.subscriptions.map((s) => s.owner.subject))).toEqual(new Set(['p-create', 'p-list', 'p-other']));
    // A token is bound to who listed: another partner cannot page through someone else's list with it.
    expect(
      await invalidFields(
        h.webhooks.useCases.listSubscriptions(partner('p-other'), { pageToken: first.nextPageToken }),
      ),
    ).toEqual(['pageToken']);
  });

  it('admins may register too; other roles may not manage webhooks at all', async () => {
    const admins = await h.webhooks.useCases.createSubscription(ADMIN, {
      ...goodBody,
      filters: { storeIds: ['any-store'] },
    });
    expect(admins.subscription.owner).toEqual({ role: 'admin', subject: 'ops-1', storeIds: [] });
    const refused = await problem(h.webhooks.useCases.createSubscription(SHOPPER, goodBody));
    expect(refused.status).toBe(403);
    expect((await problem(h.webhooks.useCases.listSubscriptions({ ...SHOPPER, role: 'staff' }))).status).toBe(403);
  });

  it('limits subscriptions per owner', async () => {
    const busy = partner('p-busy');
    for (let i = 0; i < 5; i++) await h.webhooks.useCases.createSubscription(busy, goodBody);
    const refused = await problem(h.webhooks.useCases.createSubscription(busy, goodBody));
    expect(refused.status).toBe(409);
    expect(refused.message).toMatch(/most allowed is 5/);
  });
});

describe('update, rotate, delete', () => {
  it('updates the given fields, bumps the version, and refuses a stale version', async () => {
    const owner = partner('p-update', ['s-1']);
    const { subscription } = await h.webhooks.useCases.createSubscription(owner, goodBody);
    const updated = await h.webhooks.useCases.updateSubscription(owner, subscription.id, {
      status: 'PAUSED',
      filters: { channels: ['CHANNEL_WEB'] },
      version: 1,
    });
    conforms('WebhookSubscription', updated);
    expect(updated).toMatchObject({ status: 'PAUSED', filters: { channels: ['CHANNEL_WEB'] }, version: 2 });
    expect(updated.url).toBe(subscription.url);
    const stale = await problem(
      h.webhooks.useCases.updateSubscription(owner, subscription.id, { status: 'ACTIVE', version: 1 }),
    );
    expect(stale.status).toBe(409);
    // An admin may change a partner's subscription; the owner stays the partner.
    const byAdmin = await h.webhooks.useCases.updateSubscription(ADMIN, subscription.id, { description: 'checked' });
    expect(byAdmin.owner.subject).toBe('p-update');
  });

  it('rotates the secret: a new one shown once, the previous one valid for the overlap', async () => {
    const owner = partner('p-rotate');
    const { subscription, secret } = await h.webhooks.useCases.createSubscription(owner, goodBody);
    const rotated = await h.webhooks.useCases.rotateSecret(owner, subscription.id, { overlapSeconds: 3600 });
    conforms('RotateWebhookSecretResponse', rotated);
    expect(rotated.secret).not.toBe(secret);
    expect(Date.parse(rotated.previousSecretExpireTime ?? '') - Date.now()).toBeGreaterThan(3_590_000);
    expect(rotated.subscription.previousSecretExpireTime).toBe(rotated.previousSecretExpireTime);
    const immediate = await h.webhooks.useCases.rotateSecret(owner, subscription.id, { overlapSeconds: 0 });
    expect(immediate.previousSecretExpireTime).toBeUndefined();
    const stored = await h.db.collection('webhook_subscriptions').findOne({ _id: subscription.id as never });
    expect((stored?.secrets as unknown[]).length).toBe(1);
    // Default overlap: a day.
    const byDefault = await h.webhooks.useCases.rotateSecret(owner, subscription.id);
    expect(Date.parse(byDefault.previousSecretExpireTime ?? '') - Date.now()).toBeGreaterThan(86_390_000);
  });

  it('deletes; the id is then unknown', async () => {
    const owner = partner('p-delete');
    const { subscription } = await h.webhooks.useCases.createSubscription(owner, goodBody);
    await h.webhooks.useCases.deleteSubscription(owner, subscription.id);
    expect((await problem(h.webhooks.useCases.getSubscription(owner, subscription.id))).status).toBe(404);
    expect((await problem(h.webhooks.useCases.deleteSubscription(owner, subscription.id))).status).toBe(404);
  });
});

describe("another partner's subscription", () => {
  it('is 404 for every use case, exactly like a missing one, and nothing changes', async () => {
    const { subscription } = await h.webhooks.useCases.createSubscription(partner('p-owner'), goodBody);
    const intruder = partner('p-intruder');
    const before = await snapshot();
    const calls: [string, () => Promise<unknown>][] = [
      ['get', () => h.webhooks.useCases.getSubscription(intruder, subscription.id)],
      ['update', () => h.webhooks.useCases.updateSubscription(intruder, subscription.id, { status: 'PAUSED' })],
      ['delete', () => h.webhooks.useCases.deleteSubscription(intruder, subscription.id)],
      ['rotate', () => h.webhooks.useCases.rotateSecret(intruder, subscription.id, {})],
      ['deliveries', () => h.webhooks.useCases.listDeliveries(intruder, subscription.id, {})],
      ['delivery', () => h.webhooks.useCases.getDelivery(intruder, subscription.id, 'whd_x')],
      ['replay', () => h.webhooks.useCases.replay(intruder, subscription.id, { from: new Date(0).toISOString() })],
    ];
    for (const [name, call] of calls) {
      const p = await problem(call());
      expect([name, p.status]).toEqual([name, 404]);
      const missing = await problem(h.webhooks.useCases.getSubscription(intruder, 'whs_missing'));
      expect(p.toDocument().title).toBe(missing.toDocument().title);
    }
    expect(await snapshot()).toEqual(before);
    expect((await h.webhooks.useCases.listSubscriptions(intruder)).subscriptions).toEqual([]);
  });
});

describe('bad input', () => {
  const a = partner('p-bad', ['s-1']);
  let id: string;
  beforeAll(async () => {
    id = (await h.webhooks.useCases.createSubscription(a, goodBody)).subscription.id;
  });

  const cases: [string, () => Promise<unknown>, string[]][] = [
    ['create without anything', () => h.webhooks.useCases.createSubscription(a, {} as never), ['url', 'eventTypes']],
    [
      'create with bad fields',
      () =>
        h.webhooks.useCases.createSubscription(a, {
          url: 'https://u:p@partner.example/x',
          eventTypes: ['o2o.orders.v1.OrderConfirmed', 'o2o.orders.v1.Nope', 'o2o.inventory.v1.StockLow'],
          filters: { storeIds: ['s-1', 's-2'], channels: ['CHANNEL_FAX'] },
          description: 'x'.repeat(501),
          status: 'ON' as never,
          colour: 'red',
        } as never),
      [
        'colour',
        'url',
        'eventTypes[1]',
        'eventTypes[2]',
        'filters.storeIds[1]',
        'filters.channels[0]',
        'description',
        'status',
      ],
    ],
    [
      'create with a URL too long, not http, or relative',
      () => h.webhooks.useCases.createSubscription(a, { ...goodBody, url: `https://x.example/${'a'.repeat(2100)}` }),
      ['url'],
    ],
    [
      'create with no event types',
      () => h.webhooks.useCases.createSubscription(a, { ...goodBody, eventTypes: [] }),
      ['eventTypes'],
    ],
    [
      'create with a body that is not an object',
      () => h.webhooks.useCases.createSubscription(a, 'x' as never),
      ['body', 'url', 'eventTypes'],
    ],
    ['list with a bad page size', () => h.webhooks.useCases.listSubscriptions(a, { pageSize: 101 }), ['pageSize']],
    [
      'list with a forged token',
      () => h.webhooks.useCases.listSubscriptions(a, { pageToken: 'bm9wZQ' }),
      ['pageToken'],
    ],
    ['update with nothing to change', () => h.webhooks.useCases.updateSubscription(a, id, {}), ['body']],
    [
      'update with bad fields',
      () =>
        h.webhooks.useCases.updateSubscription(a, id, {
          url: 'ftp://x.example',
          eventTypes: ['o2o.orders.v1.OrderConfirmed', 'o2o.orders.v1.OrderConfirmed'],
          filters: { storeIds: ['s-9'] },
          version: 0,
        }),
      ['url', 'eventTypes[1]', 'filters.storeIds[0]', 'version'],
    ],
    [
      'rotate with a too long overlap',
      () => h.webhooks.useCases.rotateSecret(a, id, { overlapSeconds: 8 * 86_400 }),
      ['overlapSeconds'],
    ],
    [
      'rotate with an unknown field',
      () => h.webhooks.useCases.rotateSecret(a, id, { overlap: 1 } as never),
      ['overlap'],
    ],
    [
      'list deliveries with bad filters',
      () => h.webhooks.useCases.listDeliveries(a, id, { status: 'LOST' as never, eventType: 'nope', pageSize: 0 }),
      ['status', 'eventType', 'pageSize'],
    ],
    ['replay without from', () => h.webhooks.useCases.replay(a, id, {} as never), ['from']],
    [
      'replay with bad times',
      () => h.webhooks.useCases.replay(a, id, { from: 'yesterday', to: '2026-13-01', onlyDead: 'yes' as never }),
      ['from', 'to', 'onlyDead'],
    ],
    [
      'replay with to before from',
      () => h.webhooks.useCases.replay(a, id, { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }),
      ['to'],
    ],
  ];

  it.each(cases)('%s: 400 naming the fields, nothing written', async (_name, call, fields) => {
    const before = await snapshot();
    expect(await invalidFields(call())).toEqual(fields);
    expect(await snapshot()).toEqual(before);
  });

  it('a problem document lists the fields', async () => {
    const p = await problem(h.webhooks.useCases.createSubscription(a, { ...goodBody, url: 'nope' }));
    expect(p.toDocument()).toMatchObject({
      status: 400,
      invalid_params: [{ name: 'url', reason: 'is not an absolute URL' }],
    });
  });
});

describe('schemas', () => {
  it('accept good request bodies and refuse unknown fields', () => {
    conforms('CreateWebhookSubscriptionRequest', { ...goodBody, filters: { storeIds: ['s-1'] }, status: 'PAUSED' });
    conforms('UpdateWebhookSubscriptionRequest', { url: 'https://x.example/h', version: 3 });
    conforms('RotateWebhookSecretRequest', {});
    conforms('ReplayWebhookRequest', { from: '2026-01-01T00:00:00Z', onlyDead: true });
    expect(() => conforms('CreateWebhookSubscriptionRequest', { ...goodBody, colour: 'red' })).toThrow();
    expect(() => conforms('UpdateWebhookSubscriptionRequest', {})).toThrow();
    expect(() => conforms('ReplayWebhookRequest', { from: 'yesterday' })).toThrow();
  });
});
