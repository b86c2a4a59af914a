// Stops testcontainers if the setup started them. Local servers from scripts/infra.sh keep running (cached) for
// the next run; `scripts/infra.sh down` stops them.
export default async function globalTeardown(): Promise<void> {
  for (const container of globalThis.__O2O_CONTAINERS__ ?? []) await container.stop();
}
