// @o2o/system: the whole system under load and under faults. The benchmark suite lives in src/bench (npm run bench);
// the fault suite and the bad-input sweep are tests in test/ (npm run test:faults, and the integration run).
export {};
