// @o2o/kit-outbox: events stored in the aggregate's own document, a relay that publishes them, and consumer dedup.
export { OUTBOX_FIELD, outboxEntry, outboxPush, type OutboxEntry, type OutboxEvent } from './outbox-entry';
export { HAS_OUTBOX_ENTRIES, startOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from './outbox-relay';
export { createInbox, dedupe, type Inbox } from './inbox';
export { startEventPipeline, type EventPipeline, type EventPipelineOptions } from './event-pipeline';
export {
  OUTBOX_BACKLOG,
  OUTBOX_PUBLISHED,
  OUTBOX_PUBLISH_FAILURES,
  trackOutboxBacklog,
  type OutboxBacklog,
} from './outbox-metrics';
