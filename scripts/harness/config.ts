import { join } from "node:path";

export interface FederationListener {
  port: number;
  certificatePath: string;
  privateKeyPath: string;
}

/** Where Synapse keeps its state: a SQLite file, or a database of a PostgreSQL cluster reached by its socket. */
export type DatabaseSettings =
  | { engine: "sqlite"; path: string }
  | { engine: "postgres"; socketDirectory: string; port: number; user: string; database: string };

export interface HomeserverSettings {
  serverName: string;
  dataDirectory: string;
  database: DatabaseSettings;
  clientPort: number;
  registrationSharedSecret: string;
  macaroonSecretKey: string;
  formSecret: string;
  signingKeyPath: string;
  logConfigPath: string;
  federation?: FederationListener;
  /**
   * A second plain-HTTP listener with the `client` resource, which also serves /_synapse/admin:
   * an "internal listener" for tests where the clients' address refuses the admin API.
   */
  adminPort?: number;
}

// Tests send bursts that Synapse's defaults (0.2 messages/s, 0.003 logins/s…) would reject with 429.
const UNLIMITED = { per_second: 100_000, burst_count: 1_000_000 };

const RATE_LIMITS = {
  rc_message: UNLIMITED,
  rc_registration: UNLIMITED,
  rc_registration_token_validity: UNLIMITED,
  rc_login: { address: UNLIMITED, account: UNLIMITED, failed_attempts: UNLIMITED },
  rc_admin_redaction: UNLIMITED,
  rc_joins: { local: UNLIMITED, remote: UNLIMITED },
  rc_joins_per_room: UNLIMITED,
  rc_invites: { per_room: UNLIMITED, per_user: UNLIMITED, per_issuer: UNLIMITED },
  rc_3pid_validation: UNLIMITED,
  rc_third_party_invite: UNLIMITED,
  rc_key_requests: UNLIMITED,
  rc_media_create: UNLIMITED,
  rc_presence: { per_user: UNLIMITED },
  rc_delayed_event_mgmt: UNLIMITED,
  rc_room_creation: UNLIMITED,
  rc_reports: UNLIMITED,
  rc_user_directory: UNLIMITED,
  rc_profile: UNLIMITED,
  rc_federation: { window_size: 1000, sleep_limit: 100_000, reject_limit: 1_000_000, concurrent: 1000 },
  federation_rr_transactions_per_room_per_second: 10_000,
};

/**
 * The settings a federating test server needs beyond the defaults: Synapse refuses to
 * contact loopback addresses and unverified certificates unless told otherwise.
 */
function federationSettings(listener: FederationListener): Record<string, unknown> {
  return {
    tls_certificate_path: listener.certificatePath,
    tls_private_key_path: listener.privateKeyPath,
    federation_verify_certificates: false,
    // The default blocklist contains 127.0.0.0/8; an empty one (Synapse still adds 0.0.0.0
    // and ::) lets outbound federation reach the peer on loopback. Federation falls back to
    // this list because federation_ip_range_blacklist is not set.
    ip_range_blacklist: [],
  };
}

function databaseConfig(settings: DatabaseSettings): Record<string, unknown> {
  if (settings.engine === "sqlite") return { name: "sqlite3", args: { database: settings.path } };
  return {
    name: "psycopg2",
    // cp_min and cp_max as in Synapse's own example config: the pool a real deployment runs with.
    args: { user: settings.user, host: settings.socketDirectory, port: settings.port, database: settings.database, cp_min: 5, cp_max: 10 },
  };
}

/** homeserver.yaml as an object; JSON is valid YAML, so it is written with JSON.stringify. */
export function homeserverConfig(settings: HomeserverSettings): Record<string, unknown> {
  const listeners: unknown[] = [
    {
      port: settings.clientPort,
      bind_addresses: ["127.0.0.1"],
      type: "http",
      tls: false,
      // A test client may say which address it calls from (X-Forwarded-For): Synapse records a
      // device's last-seen time at most every two minutes per access token and address, so a
      // request from a new address is seen at once (see MatrixClient.sync's fromAddress).
      x_forwarded: true,
      resources: [{ names: ["client"], compress: false }],
    },
  ];
  if (settings.adminPort !== undefined) {
    listeners.push({
      port: settings.adminPort,
      bind_addresses: ["127.0.0.1"],
      type: "http",
      tls: false,
      resources: [{ names: ["client"], compress: false }],
    });
  }
  if (settings.federation !== undefined) {
    listeners.push({
      port: settings.federation.port,
      bind_addresses: ["127.0.0.1"],
      type: "http",
      tls: true,
      resources: [{ names: ["federation"], compress: false }],
    });
  }
  return {
    server_name: settings.serverName,
    public_baseurl: `http://127.0.0.1:${settings.clientPort}/`,
    pid_file: join(settings.dataDirectory, "homeserver.pid"),
    listeners,
    database: databaseConfig(settings.database),
    log_config: settings.logConfigPath,
    media_store_path: join(settings.dataDirectory, "media_store"),
    signing_key_path: settings.signingKeyPath,
    registration_shared_secret: settings.registrationSharedSecret,
    macaroon_secret_key: settings.macaroonSecretKey,
    form_secret: settings.formSecret,
    enable_registration: false,
    report_stats: false,
    enable_metrics: false,
    url_preview_enabled: false,
    // Presence only adds federation chatter and background work to a test server.
    presence: { enabled: false },
    // Synapse answers a sync request identical to one of the last two minutes (same user, device,
    // token and filter) from a cache: a test that syncs twice without a token would get the
    // first answer, with its old position, again. Real clients never repeat a request like that.
    caches: { sync_response_cache_duration: 0 },
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    ...RATE_LIMITS,
    ...(settings.federation === undefined ? {} : federationSettings(settings.federation)),
  };
}

/**
 * Python logging config: INFO to a plain, unbuffered file so the log is complete when a test
 * fails or Synapse dies during start-up (the default buffered handler can lose the last lines).
 */
export function logConfig(logFile: string): Record<string, unknown> {
  return {
    version: 1,
    formatters: {
      precise: { format: "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s" },
    },
    handlers: {
      file: { class: "logging.FileHandler", formatter: "precise", filename: logFile, encoding: "utf8" },
    },
    loggers: {
      // DEBUG here would write access tokens; INFO is plenty and still noisy.
      "synapse.storage.SQL": { level: "WARNING" },
    },
    root: { level: "INFO", handlers: ["file"] },
    disable_existing_loggers: false,
  };
}
