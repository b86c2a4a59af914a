// The services rely on one guarantee of the database: a single-document update is atomic, so a conditional update
// (version check, stock check) cannot be won twice and no $inc is lost. MongoDB gives it; the local FerretDB gives it
// through the write gate in scripts/infra/ferretdb. Two separate clients race here, as two service replicas would.
import { testInfra, uniqueName } from '@o2o/kit-testing';
import { MongoClient } from 'mongodb';

let a: MongoClient;
let b: MongoClient;
const dbName = uniqueName('atomic');

beforeAll(async () => {
  a = await MongoClient.connect(testInfra().mongoUrl, { maxPoolSize: 8 });
  b = await MongoClient.connect(testInfra().mongoUrl, { maxPoolSize: 8 });
});

afterAll(async () => {
  await a?.db(dbName).dropDatabase();
  await a?.close();
  await b?.close();
});

it('loses no concurrent $inc on one document', async () => {
  const [ca, cb] = [
    a.db(dbName).collection<{ _id: string; n: number }>('inc'),
    b.db(dbName).collection<{ _id: string; n: number }>('inc'),
  ];
  await ca.insertOne({ _id: 'x', n: 0 });
  await Promise.all(
    Array.from({ length: 200 }, (_, i) => (i % 2 ? ca : cb).updateOne({ _id: 'x' }, { $inc: { n: 1 } })),
  );
  expect((await ca.findOne({ _id: 'x' }))?.n).toBe(200);
});

it('lets exactly one of two racing conditional updates win, every time', async () => {
  const [ca, cb] = [
    a.db(dbName).collection<{ _id: string; v: number }>('cas'),
    b.db(dbName).collection<{ _id: string; v: number }>('cas'),
  ];
  await ca.insertOne({ _id: 'x', v: 0 });
  const winners: number[] = [];
  for (let v = 0; v < 50; v++) {
    const results = await Promise.all([
      ca.updateOne({ _id: 'x', v }, { $set: { v: v + 1 } }),
      cb.updateOne({ _id: 'x', v }, { $set: { v: v + 1 } }),
    ]);
    winners.push(results[0].modifiedCount + results[1].modifiedCount);
  }
  expect(winners.every((w) => w === 1)).toBe(true);
  expect((await ca.findOne({ _id: 'x' }))?.v).toBe(50);
});
