//! Command line and environment. Every option can be given as a flag or as the
//! environment variable named in `bmms --help`.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// BMMS, the Bangsamoro Ministerial Management System.
#[derive(Debug, Parser)]
#[command(name = "bmms", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// What to do; `serve` when left out.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL of the role that owns the schema and runs migrations. Without it,
    /// BMMS runs a private PostgreSQL cluster in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// PostgreSQL URL for request traffic, as the `bmms_app` role (which cannot bypass
    /// row-level security). Defaults to DATABASE_URL with the user changed to bmms_app.
    #[arg(long, env = "BMMS_APP_DATABASE_URL", global = true, hide_env_values = true)]
    pub app_database_url: Option<String>,

    /// Directory for the private PostgreSQL cluster (used when DATABASE_URL is unset).
    #[arg(long, env = "BMMS_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Directory holding initdb and pg_ctl; found automatically on Debian and on PATH.
    #[arg(long, env = "BMMS_PG_BIN_DIR", global = true)]
    pub pg_bin_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve(ServeArgs),
    /// Manage organizations and users.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Load demo users for every role in several organizations and print their passwords once.
    Demo,
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Start or stop the private PostgreSQL cluster by itself (used by the test script).
    #[command(subcommand)]
    Db(DbCommand),
    /// Check a BPDA certificate (the JSON file BMMS issued, `-` for standard input): its
    /// signature, BMMS's record of it, and whether the proposal changed since.
    VerifyCertification {
        /// The certificate's JSON file, or `-`.
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "BMMS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Address and port of the operators' `GET /metrics` (Prometheus), apart from the
    /// public address so that it is never exposed with the app. Not served when unset.
    /// Example: 127.0.0.1:9464.
    #[arg(long, env = "BMMS_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,

    /// A streaming replica of the database, connected as the app role, for OCM's reads
    /// across organizations (dashboards, the implementation view). Unset: the primary.
    #[arg(long, env = "BMMS_REPLICA_DATABASE_URL")]
    pub replica_database_url: Option<String>,

    /// The replica is read only while it lags the primary by at most this many seconds
    /// (checked every second); otherwise the primary answers.
    #[arg(long, env = "BMMS_REPLICA_MAX_LAG_SECONDS", default_value_t = 10)]
    pub replica_max_lag_seconds: u64,

    /// BPDA's certification key (the secret half, 64 hex digits): made there on first
    /// start if missing. Back it up; its public half is kept in the database. Defaults to
    /// `certification-key` in the data directory.
    #[arg(long, env = "BMMS_CERTIFICATION_KEY")]
    pub certification_key: Option<PathBuf>,

    /// The key that seals second-factor secrets (authenticator apps' seeds) in the
    /// database, 64 hex digits: made there on first start if missing. Back it up apart
    /// from the database: without it, every authenticator app must be set up again.
    /// Defaults to `factor-key` in the data directory.
    #[arg(long, env = "BMMS_FACTOR_KEY")]
    pub factor_key: Option<PathBuf>,

    /// Where the photos of records are kept once they arrived whole (one file per photo,
    /// by organization): a folder, or `s3://bucket/prefix` of S3-compatible storage set up
    /// by the `AWS_*` variables. Back it up with the database. Defaults to `photos` in the
    /// data directory.
    #[arg(long, env = "BMMS_PHOTO_STORE")]
    pub photo_store: Option<String>,

    /// The roles whose members must have a second factor to sign in: `default` (OCM's
    /// executives and analysts, BPDA's planners, MFBM's budget officers, organization and
    /// system administrators), `none`, or role names separated by commas.
    #[arg(long, env = "BMMS_MFA_ROLES", default_value = "default")]
    pub mfa_roles: crate::auth::second_factor::MfaPolicy,

    /// The networks OCM's accounts (executives and analysts) may sign in and work from,
    /// separated by commas, e.g. `10.20.0.0/16,203.0.113.7`. Unset: any network. Behind a
    /// proxy, with --trust-forwarded-for, the address it forwards is the one checked.
    #[arg(long, env = "BMMS_OCM_ALLOWED_NETWORKS", default_value = "")]
    pub ocm_allowed_networks: crate::auth::allowed_networks::AllowedNetworks,

    /// The address people open BMMS at, e.g. `https://bmms.bangsamoro.gov.ph`. Passkeys
    /// are bound to its host name: changing the name later makes every passkey stop
    /// working. Unset: `http://localhost` on the listening port, for development.
    #[arg(long, env = "BMMS_PUBLIC_URL")]
    pub public_url: Option<webauthn_rs::prelude::Url>,

    /// The OpenID Connect providers people may sign in with: a JSON file holding an array
    /// of `{"id", "label", "issuer", "client_id", "client_secret"}`, with optionally
    /// `"username_claim"` (`preferred_username`, the default, or `sub`) and `"provision"`
    /// (`{"organization": "MILG", "role": "field_officer"}`: make unknown people users).
    /// Unset: none. The redirect URI to register with each is
    /// `<public URL>/api/v1/auth/oidc/<id>/callback`.
    #[arg(long, env = "BMMS_OIDC_PROVIDERS")]
    pub oidc_providers: Option<PathBuf>,

    /// The built app (trunk's output) to serve.
    #[arg(long, env = "BMMS_DIST_DIR", default_value = "dist")]
    pub dist_dir: PathBuf,

    /// Send the session cookie without `Secure` and without the `__Host-` prefix.
    /// Only for plain-http development on another machine than localhost: browsers
    /// already accept Secure cookies from http://localhost.
    #[arg(long, env = "BMMS_INSECURE_COOKIES")]
    pub insecure_cookies: bool,

    /// A session ends after this many minutes without a request.
    #[arg(long, env = "BMMS_SESSION_IDLE_MINUTES", default_value_t = 8 * 60)]
    pub session_idle_minutes: i64,

    /// A session ends this many hours after sign-in, active or not.
    #[arg(long, env = "BMMS_SESSION_MAX_HOURS", default_value_t = 7 * 24)]
    pub session_max_hours: i64,

    /// Take the client address from X-Forwarded-For (only behind a trusted proxy).
    #[arg(long, env = "BMMS_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// How many recently synced documents to keep in memory, so that hot documents are
    /// not reloaded from PostgreSQL for every batch. Off (0) by default: with today's
    /// small documents it saves nothing measurable (docs/benchmarks.md, W4).
    #[arg(long, env = "BMMS_DOCUMENT_CACHE_ENTRIES", default_value_t = 0)]
    pub document_cache_entries: usize,

    /// Largest number of database connections (one of them stays with the live-events
    /// listener, the rest serve requests). About four per core of the
    /// database's machine: on two cores, 8 gave W5 its best p99 (227–236 ms against 270–285
    /// with 24; docs/benchmarks.md), because more connections only add backends that
    /// contend for the same cores and the organization's locks.
    #[arg(long, env = "BMMS_DB_MAX_CONNECTIONS", default_value_t = 8)]
    pub db_max_connections: u32,

    /// Sync exchanges one user may have in progress at once; more get 429 with
    /// Retry-After. An officer's phone sends one at a time; this keeps one account from
    /// taking every database connection.
    #[arg(long, env = "BMMS_SYNCS_PER_USER", default_value_t = 4)]
    pub syncs_per_user: usize,
}

impl Default for ServeArgs {
    /// The defaults, with whatever the environment sets: `bmms` with no subcommand.
    fn default() -> Self {
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            serve: ServeArgs,
        }
        Defaults::parse_from(["bmms"]).serve
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an organization.
    CreateOrg {
        /// Short code, e.g. MILG.
        #[arg(long)]
        code: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// moa, ocm, bpda or mfbm.
        #[arg(long, default_value = "moa")]
        kind: String,
    },
    /// Create a user with a role in an organization; prints a generated password.
    CreateUser {
        /// Code of the organization, e.g. MILG.
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        /// One of the roles, e.g. field_officer.
        #[arg(long)]
        role: String,
    },
    /// Give a user a new generated password, printed once.
    ResetPassword {
        #[arg(long)]
        username: String,
    },
    /// Disable a user: they cannot sign in and every session of theirs ends at once.
    DisableUser {
        #[arg(long)]
        username: String,
    },
    /// Remove a user's passkeys, authenticator app and recovery codes (a lost device); if their role
    /// needs a second factor, they set up a new one at their next sign-in.
    ResetSecondFactor {
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk every organization's hash chain and name the first entry that does not match.
    Verify,
    /// Copy every entry not archived yet into a new read-only file of JSON lines, and
    /// record the archive (file, SHA-256, chain head) in each organization's chain.
    /// Run it monthly; nothing is removed from the database.
    Archive {
        /// Where to write the file.
        #[arg(long)]
        dir: PathBuf,
        /// Archive the entries older than this moment (RFC 3339). Defaults to the start
        /// of the current month (UTC), so a monthly run archives the month that ended.
        #[arg(long)]
        before: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Check an archive file: its entries' hashes and links, and that it is the file the
    /// database recorded archiving.
    VerifyArchive {
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Start the private cluster and print the owner's DATABASE_URL.
    Start,
    /// Stop the private cluster.
    Stop,
}
