import { parseConfig, serviceEnv, z } from '@o2o/kit-config';

const schema = z.object({
  ...serviceEnv('catalogue', 50051),
});

/** The catalogue's configuration, parsed once at boot. */
export type CatalogueConfig = z.infer<typeof schema>;

/** Reads and checks the environment; throws ConfigError naming every bad variable. */
export function loadConfig(source: Record<string, string | undefined>): Readonly<CatalogueConfig> {
  return parseConfig(schema, source);
}
