// Deadlines with short timers against the real service: a task nobody accepts is announced overdue once per
// stage, and a pick-up nobody collects expires (its code stops working, PickupExpired is published).
import { status } from '@grpc/grpc-js';
import { TaskStage, TaskStatus } from '@o2o/contracts/gen/o2o/delivery/v1/delivery';
import { refusal, uniqueName, waitFor } from '@o2o/kit-testing';
import { type DeliveryHarness, PLACES, startDelivery } from './harness';

let h: DeliveryHarness;

beforeAll(async () => {
  h = await startDelivery({ TASK_ACCEPT_MS: '1000', TASK_PICK_MS: '1000', PICKUP_EXPIRY_MS: '2500' });
});
afterAll(async () => {
  await h?.stop();
});

const fulfilment = (id: string) => h.client.getFulfilment({ fulfilmentId: id, orderId: '', groupId: '' });

it('announces a task not accepted in time once, and a late pick once', async () => {
  const orderId = uniqueName('o');
  await h.confirmOrder(orderId, [{ id: 'g1', type: 'STORE_PICKUP', locationId: PLACES.storeA.id }]);
  const overdue = await waitFor(() => h.events().find((e) => e.key === orderId && e.type === 'TaskOverdue'), {
    what: 'TaskOverdue',
  });
  expect(overdue.payload).toMatchObject({ stage: TaskStage.TASK_STAGE_ACCEPT, taskId: `${orderId}.g1` });
  const f = (await fulfilment(`${orderId}.g1`)).fulfilment!;
  expect(f.task?.overdue).toEqual([TaskStage.TASK_STAGE_ACCEPT]);
  // A late acceptance is still taken; the pick deadline then passes too.
  await h.client.acceptTask({ fulfilmentId: f.id, locationId: f.locationId, associateId: '' });
  await waitFor(() => h.events().filter((e) => e.key === orderId && e.type === 'TaskOverdue').length === 2, {
    what: 'the PICK overdue',
  });
  await new Promise((r) => setTimeout(r, 1000));
  const stages = h
    .events()
    .filter((e) => e.key === orderId && e.type === 'TaskOverdue')
    .map((e) => e.payload.stage);
  expect(stages).toEqual([TaskStage.TASK_STAGE_ACCEPT, TaskStage.TASK_STAGE_PICK]);
});

it('expires an uncollected pick-up', async () => {
  const orderId = uniqueName('o');
  await h.confirmOrder(orderId, [{ id: 'g1', type: 'STORE_PICKUP', locationId: PLACES.storeB.id }]);
  const id = `${orderId}.g1`;
  await waitFor(async () => (await fulfilment(id)).fulfilment);
  await h.client.acceptTask({ fulfilmentId: id, locationId: PLACES.storeB.id, associateId: '' });
  await h.client.markReady({ fulfilmentId: id, locationId: PLACES.storeB.id });
  const { code } = await h.client.getHandoverCode({ fulfilmentId: id });
  await waitFor(() => h.events().find((e) => e.key === orderId && e.type === 'PickupExpired'), {
    timeoutMs: 10_000,
    what: 'PickupExpired',
  });
  expect((await fulfilment(id)).fulfilment?.task?.status).toBe(TaskStatus.TASK_STATUS_EXPIRED);
  expect(
    await refusal(
      h.client.verifyPickup({ locationId: PLACES.storeB.id, fulfilmentId: id, code, qrPayload: '', associateId: '' }),
    ),
  ).toMatchObject({ code: status.FAILED_PRECONDITION });
  expect(await refusal(h.client.getHandoverCode({ fulfilmentId: id }))).toMatchObject({
    code: status.FAILED_PRECONDITION,
  });
});
