// Which events partners may subscribe to, read from the contract itself (the FileDescriptorSet of every o2o proto):
// the messages declared in each domain's events.proto, minus helper messages other events embed (FulfilmentRef).
// Also decodes a Kafka value into the canonical proto3 JSON mapping the CloudEvent's `data` carries.
import { readFileSync } from 'node:fs';
import { createFileRegistry, type DescMessage, fromBinary, type JsonValue, toJson } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { descriptorSetPath } from '@o2o/contracts';

/** The domains whose events are offered as webhooks, with their topic (same name as the proto package). */
export const WEBHOOK_DOMAINS = ['orders', 'delivery', 'payments', 'catalogue'] as const;
export type WebhookDomain = (typeof WEBHOOK_DOMAINS)[number];

/** Domains whose events concern one order (keyed by order id): delivered only to those who may see the order. */
export const ORDER_SCOPED_DOMAINS: readonly WebhookDomain[] = ['orders', 'delivery', 'payments'];

/** The Kafka topic (without prefix) of a domain, e.g. `o2o.orders.v1`. */
export const topicOf = (domain: WebhookDomain): string => `o2o.${domain}.v1`;

/** The subscribable event types and the order channel names, and the decoder of event values. */
export interface EventCatalog {
  /** Every subscribable full type name, e.g. `o2o.orders.v1.OrderConfirmed`, sorted. */
  readonly eventTypes: readonly string[];
  /** o2o.orders.v1.Channel names a filter may name (CHANNEL_UNSPECIFIED excluded). */
  readonly channels: readonly string[];
  /** The domain of a subscribable type, or undefined for anything else. */
  domainOf(type: string): WebhookDomain | undefined;
  /** The event's proto3 JSON; throws when the bytes are not a valid message of that type. */
  toJson(type: string, value: Uint8Array): JsonValue;
}

/** Builds the catalogue from the contract's descriptor set (default: @o2o/contracts' o2o.binpb). */
export function loadEventCatalog(path: string = descriptorSetPath()): EventCatalog {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(path)));
  const messages = new Map<string, { domain: WebhookDomain; desc: DescMessage }>();
  for (const domain of WEBHOOK_DOMAINS) {
    const file = registry.getFile(`o2o/${domain}/v1/events.proto`);
    if (!file) throw new Error(`The descriptor set ${path} has no o2o/${domain}/v1/events.proto`);
    const embedded = new Set(
      file.messages.flatMap((m) => m.fields.flatMap((f) => (f.message ? [f.message.typeName] : []))),
    );
    for (const desc of file.messages) {
      if (!embedded.has(desc.typeName)) messages.set(desc.typeName, { domain, desc });
    }
  }
  const channelEnum = registry.getEnum('o2o.orders.v1.Channel');
  if (!channelEnum) throw new Error(`The descriptor set ${path} has no enum o2o.orders.v1.Channel`);
  const channels = channelEnum.values.filter((v) => v.number !== 0).map((v) => v.name);

  return {
    eventTypes: [...messages.keys()].sort(),
    channels,
    domainOf: (type) => messages.get(type)?.domain,
    toJson(type, value) {
      const found = messages.get(type);
      if (!found) throw new Error(`"${type}" is not a webhook event type`);
      return toJson(found.desc, fromBinary(found.desc, value), { registry });
    },
  };
}
