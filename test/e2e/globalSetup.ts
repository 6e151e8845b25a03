import { CLUSTER_ENVIRONMENT, e2eDatabase, startPostgresCluster } from "../../scripts/harness/postgres.js";

/**
 * One PostgreSQL cluster for the whole e2e run, as real deployments run Synapse on PostgreSQL;
 * every Synapse a test starts gets a database of its own in it (scripts/harness/synapse.ts).
 * WARDEN_E2E_DATABASE=sqlite skips it, and every Synapse runs on a SQLite file instead.
 * The test files run in child processes started after this, so they inherit the variable.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (e2eDatabase() === "sqlite") {
    Reflect.deleteProperty(process.env, CLUSTER_ENVIRONMENT);
    return () => Promise.resolve();
  }
  const cluster = await startPostgresCluster();
  process.env[CLUSTER_ENVIRONMENT] = JSON.stringify(cluster.server);
  return () => cluster.stop();
}
