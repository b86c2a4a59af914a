import { env, parseConfig, serviceEnv, z } from '@o2o/kit-config';

const schema = z.object({
  ...serviceEnv('inventory', 50052),
  /** Consumer group that reads the catalogue's events. */
  KAFKA_GROUP_ID: z.string().default('o2o-inventory'),
  /** How often the sweeper looks for expired holds, interrupted holds and unsettled lines. */
  HOLD_SWEEP_INTERVAL_MS: env.millis().default(1000),
});

/** Inventory's configuration, parsed once at boot. */
export type InventoryConfig = z.infer<typeof schema>;

/** Reads and checks the environment; throws ConfigError naming every bad variable. */
export function loadConfig(source: Record<string, string | undefined>): Readonly<InventoryConfig> {
  return parseConfig(schema, source);
}
