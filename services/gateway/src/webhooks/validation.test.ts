import { loadEventCatalog } from './event-catalog';
import { readEventTypes, readFilters, readUrl, Violations } from './validation';

const catalog = loadEventCatalog();
const partner = { role: 'partner' as const, subject: 'p-1', storeIds: ['s-1'], scopes: [] };

function check<T>(read: (v: Violations) => T): { value: T; problems: string[] } {
  const v = new Violations();
  const value = read(v);
  return { value, problems: v.list.map((p) => `${p.name}: ${p.reason}`) };
}

describe('url', () => {
  const url = (value: unknown, allowPrivate = false) => check((v) => readUrl(value, v, { allowPrivate }));

  it('accepts absolute http(s) URLs, normalised', () => {
    expect(url('https://Partner.example/hooks?a=1').value).toBe('https://partner.example/hooks?a=1');
    expect(url('http://127.0.0.1:8080/x', true).value).toBe('http://127.0.0.1:8080/x');
  });

  it.each([
    [undefined, 'is required'],
    ['/relative', 'not an absolute URL'],
    ['ftp://partner.example/x', 'http or https'],
    ['https://user:pw@partner.example/x', 'credentials'],
    ['https://partner.example/x#frag', 'fragment'],
    [`https://partner.example/${'a'.repeat(2048)}`, 'at most 2048'],
    ['http://127.0.0.1/x', 'loopback'],
    ['http://localhost:3000/x', 'loopback'],
    ['http://169.254.169.254/latest', 'loopback'],
    ['http://10.1.2.3/x', 'private'],
    ['http://[::1]/x', 'loopback'],
    ['http://[::ffff:192.168.0.1]/x', 'private'],
  ])('refuses %s', (value, reason) => {
    const { value: read, problems } = url(value);
    expect(read).toBeUndefined();
    expect(problems).toEqual([expect.stringContaining(reason)]);
    expect(problems[0]).toMatch(/^url: /);
  });
});

describe('event types', () => {
  it('names each bad entry by its index', () => {
    const { value, problems } = check((v) =>
      readEventTypes(
        ['o2o.orders.v1.OrderConfirmed', 'o2o.orders.v1.Nope', 'o2o.inventory.v1.*', 7, 'o2o.orders.v1.OrderConfirmed'],
        v,
        catalog,
      ),
    );
    expect(value).toBeUndefined();
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'eventTypes[1]',
      'eventTypes[2]',
      'eventTypes[3]',
      'eventTypes[4]',
    ]);
    expect(check((v) => readEventTypes([], v, catalog)).problems).toEqual([expect.stringMatching(/^eventTypes: /)]);
    expect(check((v) => readEventTypes(['o2o.delivery.v1.*'], v, catalog)).value).toEqual(['o2o.delivery.v1.*']);
  });
});

describe('filters', () => {
  it('lets a partner name only its own stores, and only real channels', () => {
    const { problems } = check((v) =>
      readFilters({ storeIds: ['s-1', 's-2'], channels: ['CHANNEL_WEB', 'CHANNEL_FAX'], extra: 1 }, v, {
        principal: partner,
        catalog,
      }),
    );
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'filters.extra',
      'filters.storeIds[1]',
      'filters.channels[1]',
    ]);
    const admin = { ...partner, role: 'admin' as const, storeIds: [] };
    expect(check((v) => readFilters({ storeIds: ['s-2'] }, v, { principal: admin, catalog })).value).toEqual({
      storeIds: ['s-2'],
    });
  });
});
