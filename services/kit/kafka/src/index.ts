// @o2o/kit-kafka: the project's small Kafka interface, CloudEvents headers, and its kafkajs implementation.
export type {
  ConsumeOptions,
  EventConsumer,
  EventProducer,
  IncomingMessage,
  KafkaClient,
  OutgoingMessage,
  TopicSpec,
} from './types';
export { createKafkaClient, type KafkaClientOptions } from './kafkajs-client';
export {
  EVENT_CONTENT_TYPE,
  fromCloudEventHeaders,
  toCloudEventHeaders,
  type CloudEventAttributes,
} from './cloud-events';
export { CONSUMER_LAG, type PartitionLag } from './consumer-lag';
