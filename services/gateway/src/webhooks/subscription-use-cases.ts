// Subscription use cases: create (the secret is shown once), get, list, update, delete, rotate the secret. Each takes
// the caller's principal, validates everything before writing anything, and answers HttpProblem errors.
import type { Principal } from '@o2o/kit-grpc';
import { HttpProblem } from '../http/problem';
import { loadManaged, requireManager } from './access';
import type { EventCatalog } from './event-catalog';
import { newSubscriptionId } from './ids';
import type { StoredSecret, Subscription, SubscriptionFilters, SubscriptionStatus } from './model';
import { pageOf, readCursor } from './paging';
import { ownerKeyOf, type SubscriptionStore } from './ports';
import { subscriptionView, type WebhookSubscription } from './rest-mapping';
import type { SecretBox } from './secret-box';
import { generateSecret } from './signing';
import {
  LIMITS,
  onlyFields,
  readBody,
  readDescription,
  readEventTypes,
  readFilters,
  readInteger,
  readPage,
  readStatus,
  readUrl,
  Violations,
} from './validation';

/** Body of create. */
export interface CreateWebhookSubscriptionRequest {
  url: string;
  eventTypes: string[];
  filters?: SubscriptionFilters;
  description?: string;
  status?: SubscriptionStatus;
}

/** Answer of create: the subscription and its signing secret, which is never shown again. */
export interface CreateWebhookSubscriptionResponse {
  subscription: WebhookSubscription;
  secret: string;
}

/** Body of update: the fields to change (`filters` replaces the filters as a whole); `version` makes it conditional. */
export interface UpdateWebhookSubscriptionRequest {
  url?: string;
  eventTypes?: string[];
  filters?: SubscriptionFilters;
  description?: string;
  status?: SubscriptionStatus;
  version?: number;
}

/** Body of rotate-secret. */
export interface RotateWebhookSecretRequest {
  /** How long the previous secret keeps signing too; default 86400 (a day), at most 604800 (7 days), 0 ends it now. */
  overlapSeconds?: number;
}

/** Answer of rotate-secret: the new secret, shown once. */
export interface RotateWebhookSecretResponse {
  subscription: WebhookSubscription;
  secret: string;
  previousSecretExpireTime?: string;
}

/** Query of list. */
export interface ListWebhookSubscriptionsRequest {
  pageSize?: number;
  pageToken?: string;
}

/** A page of subscriptions, newest first. */
export interface ListWebhookSubscriptionsResponse {
  subscriptions: WebhookSubscription[];
  nextPageToken: string;
}

/** What the subscription use cases need. */
export interface SubscriptionDeps {
  subscriptions: SubscriptionStore;
  box: SecretBox;
  catalog: EventCatalog;
  limits: { maxSubscriptionsPerOwner: number; allowPrivateUrls: boolean };
  /** Called after every change (reloads this replica's cache); never throws. */
  changed: () => Promise<void>;
  now?: () => Date;
}

const invalid = (v: Violations, what: string) => {
  if (!v.empty) throw HttpProblem.invalid(`The ${what} is not valid`, v.list);
};

/** Subscription use cases over their dependencies. */
export function subscriptionUseCases(deps: SubscriptionDeps) {
  const { subscriptions, box, catalog, limits } = deps;
  const now = deps.now ?? (() => new Date());

  const write = async (next: Subscription, expectedVersion: number) => {
    if (!(await subscriptions.replace(next, expectedVersion))) {
      throw new HttpProblem(409, `Webhook subscription "${next.id}" changed meanwhile: read it again and retry`);
    }
    await deps.changed();
  };

  return {
    /** Registers an endpoint; answers the subscription and its secret (shown only now). */
    async createSubscription(
      principal: Principal,
      body: CreateWebhookSubscriptionRequest,
    ): Promise<CreateWebhookSubscriptionResponse> {
      requireManager(principal);
      const v = new Violations();
      const b = readBody(body, v);
      onlyFields(b, ['url', 'eventTypes', 'filters', 'description', 'status'], v);
      const url = readUrl(b.url, v, { allowPrivate: limits.allowPrivateUrls });
      const eventTypes = readEventTypes(b.eventTypes, v, catalog);
      const filters = readFilters(b.filters, v, { principal, catalog });
      const description = readDescription(b.description, v) ?? '';
      const status = readStatus(b.status, v) ?? 'ACTIVE';
      const valid = v.empty && url && eventTypes && filters ? { url, eventTypes, filters } : undefined;
      if (!valid) throw HttpProblem.invalid('The webhook subscription is not valid', v.list);
      const owner = { role: principal.role, subject: principal.subject, storeIds: [...principal.storeIds] };
      const held = await subscriptions.count(ownerKeyOf(owner));
      if (held >= limits.maxSubscriptionsPerOwner) {
        throw new HttpProblem(
          409,
          `You have ${held} webhook subscriptions, the most allowed is ${limits.maxSubscriptionsPerOwner}: delete one first`,
        );
      }
      const id = newSubscriptionId();
      const secret = generateSecret();
      const time = now();
      const subscription: Subscription = {
        id,
        owner,
        ...valid,
        description,
        status,
        createTime: time,
        updateTime: time,
        version: 1,
        secrets: [{ sealed: box.seal(secret, id), createTime: time }],
      };
      await subscriptions.insert(subscription);
      await deps.changed();
      return { subscription: subscriptionView(subscription, time), secret };
    },

    /** One subscription of the caller's (any, for an admin). */
    async getSubscription(principal: Principal, subscriptionId: string): Promise<WebhookSubscription> {
      return subscriptionView(await loadManaged(subscriptions, principal, subscriptionId), now());
    },

    /** The caller's subscriptions (every one, for an admin), newest first. */
    async listSubscriptions(
      principal: Principal,
      query: ListWebhookSubscriptionsRequest = {},
    ): Promise<ListWebhookSubscriptionsResponse> {
      requireManager(principal);
      const v = new Violations();
      const q = readBody(query, v);
      onlyFields(q, ['pageSize', 'pageToken'], v);
      const page = readPage(q, v);
      const ownerKey = principal.role === 'admin' ? undefined : ownerKeyOf(principal);
      const filters = { ownerKey: ownerKey ?? '*' };
      const after = readCursor(page.token, filters, v);
      invalid(v, 'list request');
      const found = await subscriptions.list({ ownerKey, after, limit: page.size + 1 });
      const { items, nextPageToken } = pageOf(found, page.size, filters, (s) => ({ time: s.createTime, id: s.id }));
      const time = now();
      return { subscriptions: items.map((s) => subscriptionView(s, time)), nextPageToken };
    },

    /** Changes url, event types, filters, description or status; `version` (optional) must be the current one. */
    async updateSubscription(
      principal: Principal,
      subscriptionId: string,
      body: UpdateWebhookSubscriptionRequest,
    ): Promise<WebhookSubscription> {
      requireManager(principal);
      const v = new Violations();
      const b = readBody(body, v);
      const fields = ['url', 'eventTypes', 'filters', 'description', 'status'];
      onlyFields(b, [...fields, 'version'], v);
      if (v.empty && !fields.some((f) => b[f] !== undefined)) {
        v.add('body', `names nothing to change: give one of ${fields.join(', ')}`);
      }
      const url = b.url === undefined ? undefined : readUrl(b.url, v, { allowPrivate: limits.allowPrivateUrls });
      const eventTypes = b.eventTypes === undefined ? undefined : readEventTypes(b.eventTypes, v, catalog);
      const filters = b.filters === undefined ? undefined : readFilters(b.filters, v, { principal, catalog });
      const description = readDescription(b.description, v);
      const status = readStatus(b.status, v);
      const version = readInteger(b.version, 'version', v, { min: 1, max: Number.MAX_SAFE_INTEGER });
      invalid(v, 'webhook subscription update');
      const current = await loadManaged(subscriptions, principal, subscriptionId);
      if (version !== undefined && version !== current.version) {
        throw new HttpProblem(
          409,
          `Webhook subscription "${current.id}" is at version ${current.version}, not ${version}`,
        );
      }
      const time = now();
      const isOwner = principal.role === current.owner.role && principal.subject === current.owner.subject;
      const next: Subscription = {
        ...current,
        // The owner's snapshot follows the owner's current stores whenever they write it themselves.
        owner: isOwner
          ? { role: principal.role, subject: principal.subject, storeIds: [...principal.storeIds] }
          : current.owner,
        url: url ?? current.url,
        eventTypes: eventTypes ?? current.eventTypes,
        filters: filters ?? current.filters,
        description: description ?? current.description,
        status: status ?? current.status,
        updateTime: time,
        version: current.version + 1,
      };
      await write(next, current.version);
      return subscriptionView(next, time);
    },

    /** Deletes a subscription with its delivery log; pending deliveries are dropped. */
    async deleteSubscription(principal: Principal, subscriptionId: string): Promise<void> {
      const current = await loadManaged(subscriptions, principal, subscriptionId);
      if (!(await subscriptions.delete(current.id)))
        throw HttpProblem.notFound(`No webhook subscription "${current.id}"`);
      await deps.changed();
    },

    /** A new secret (shown only now); the previous one keeps signing for `overlapSeconds` (default a day). */
    async rotateSecret(
      principal: Principal,
      subscriptionId: string,
      body: RotateWebhookSecretRequest = {},
    ): Promise<RotateWebhookSecretResponse> {
      requireManager(principal);
      const v = new Violations();
      const b = readBody(body, v);
      onlyFields(b, ['overlapSeconds'], v);
      const overlapSeconds = readInteger(b.overlapSeconds, 'overlapSeconds', v, {
        min: 0,
        max: LIMITS.maxOverlapSeconds,
        default: LIMITS.defaultOverlapSeconds,
      });
      invalid(v, 'rotation request');
      const current = await loadManaged(subscriptions, principal, subscriptionId);
      const time = now();
      const secret = generateSecret();
      const secrets: StoredSecret[] = [{ sealed: box.seal(secret, current.id), createTime: time }];
      // Only the secret in use until now overlaps; an older one (from an earlier rotation) ends here.
      const previous = current.secrets[0];
      const expireTime = new Date(time.getTime() + (overlapSeconds ?? 0) * 1000);
      if (previous && overlapSeconds)
        secrets.push({ sealed: previous.sealed, createTime: previous.createTime, expireTime });
      const next: Subscription = { ...current, secrets, updateTime: time, version: current.version + 1 };
      await write(next, current.version);
      return {
        subscription: subscriptionView(next, time),
        secret,
        ...(secrets.length > 1 ? { previousSecretExpireTime: expireTime.toISOString() } : {}),
      };
    },
  };
}

/** The subscription use cases' functions. */
export type SubscriptionUseCases = ReturnType<typeof subscriptionUseCases>;
