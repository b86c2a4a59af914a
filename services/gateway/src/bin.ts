// Process entry point. Telemetry must start before grpc-js, http, kafkajs and mongodb are first required, so the
// composition root is loaded only afterwards (see bootService).
import { bootService } from '@o2o/kit-telemetry';
import { loadConfig } from './config';
import type * as Main from './main';

bootService({
  name: 'gateway',
  loadConfig,
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loadMain: () => require('./main') as typeof Main,
});
