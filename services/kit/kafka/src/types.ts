// The project's own small Kafka interface. Services depend on these types only, never on the client library, so a
// move from kafkajs to @confluentinc/kafka-javascript touches kafkajs-client.ts alone.

/** A message to publish: the key picks the partition, so one aggregate's events keep their order. */
export interface OutgoingMessage {
  topic: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** A consumed message; header values are decoded as UTF-8 (the last value wins if a header repeats). */
export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

/** Publishes messages with acks=all; keeps no retry loop of its own beyond a few seconds (callers retry). */
export interface EventProducer {
  /** Resolves only after every in-sync replica acknowledged all messages; rejects otherwise. */
  send(messages: OutgoingMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

/** A running consumer-group member. */
export interface EventConsumer {
  /** Finishes the message in hand, commits, leaves the group. */
  stop(): Promise<void>;
}

/** A topic the service needs, with its partition count (changing it later would move keys between partitions). */
export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Topic configs (e.g. retention.ms), applied when the topic is created; an existing topic's are left alone. */
  configs?: Record<string, string>;
}

/** Options for {@link KafkaClient.consume}. */
export interface ConsumeOptions {
  groupId: string;
  topics: string[];
  /** Where a group with no committed offset starts; default false (only new messages). */
  fromBeginning?: boolean;
  /** Called once per message, in order per partition; the offset is committed only after it resolves. */
  handle: (message: IncomingMessage) => Promise<void>;
}

/** The Kafka connection of one process. */
export interface KafkaClient {
  /** An idempotent producer (acks=all, one request in flight), connected. */
  producer(): Promise<EventProducer>;
  /** Joins a consumer group; a failing handler is logged and retried (the partition waits), never skipped. */
  consume(options: ConsumeOptions): Promise<EventConsumer>;
  /** Creates missing topics and waits for their leaders; fails if an existing topic has another partition count. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  /** Disconnects every producer and consumer this client made. */
  close(): Promise<void>;
}
