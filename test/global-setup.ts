// Jest global setup for integration tests: provides a real Kafka broker and a real MongoDB-protocol server.
//   KAFKA_BROKERS and MONGO_URL set  → use those servers as they are.
//   O2O_TESTCONTAINERS=1 and Docker  → start confluentinc/cp-kafka (KRaft) and mongo:7 with testcontainers.
//   otherwise                        → scripts/infra.sh up (Apache Kafka 3.9 + FerretDB on 127.0.0.1), cached.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

declare global {
  var __O2O_CONTAINERS__: { stop(): Promise<unknown> }[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (process.env.KAFKA_BROKERS && process.env.MONGO_URL) {
    process.env.O2O_TEST_INFRA ??= 'env';
    return;
  }
  if (process.env.O2O_TESTCONTAINERS === '1') {
    await startContainers();
    return;
  }
  const root = path.resolve(__dirname, '..');
  execFileSync('bash', [path.join(root, 'scripts', 'infra.sh'), 'up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  process.env.KAFKA_BROKERS = `127.0.0.1:${process.env.O2O_KAFKA_PORT ?? '9092'}`;
  process.env.MONGO_URL = `mongodb://127.0.0.1:${process.env.O2O_MONGO_PORT ?? '27017'}`;
  process.env.O2O_TEST_INFRA = 'local';
}

async function startContainers(): Promise<void> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const { MongoDBContainer } = await import('@testcontainers/mongodb');
  const kafka = await new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start();
  const mongo = await new MongoDBContainer('mongo:7').start();
  globalThis.__O2O_CONTAINERS__ = [kafka, mongo];
  process.env.KAFKA_BROKERS = `${kafka.getHost()}:${kafka.getMappedPort(9093)}`;
  process.env.MONGO_URL = `${mongo.getConnectionString()}?directConnection=true`;
  process.env.O2O_TEST_INFRA = 'testcontainers';
}
