//! A local stand-in for the Dataverse Web API and its Entra ID token endpoint, for mailcase's
//! tests and demo. It binds to 127.0.0.1 only.
//!
//! Emulated as Microsoft documents it (see the team's `reference/dataverse.md` for sources):
//! - `POST /{tenant}/oauth2/v2.0/token` (client credentials) with Entra's error bodies
//!   (`AADSTS7000215` wrong secret 401, `AADSTS700016` unknown client 400, `AADSTS90002` unknown
//!   tenant 400, `AADSTS70011` bad scope 400); tokens expire (`Config::token_lifetime`).
//! - `/api/data/v9.2/`: `WhoAmI`; `contacts`, `incidents`, `annotations`, `queues`,
//!   `queueitems`, `systemusers`, `teams` with GET (by id, `$select`, `$filter=col eq 'x'`
//!   case-insensitive with `''` escaping, `$top`), POST (client-chosen ids, 412 duplicate),
//!   PATCH upsert with `If-None-Match: *` (412 `0x80040237`) and `If-Match: *` (404), DELETE,
//!   `Prefer: return=representation`; `queues(id)/Microsoft.Dynamics.CRM.AddToQueue`;
//!   `EntityDefinitions` attribute metadata (`MaxLength`, option sets, `AttributeType`);
//!   `$batch` with atomic change sets and `$n` Content-ID references.
//! - Strict validation with the documented codes: unknown column / label for a choice
//!   (400 `0x80048d19`), value outside the option set (400 `0x8004431a`), string too long
//!   (400 `0x80044331`), missing customer on an incident (400 `0x80040203`), unknown bind target
//!   (404 `0x80040217`), missing privilege (403 `0x80040220` naming e.g. `prvCreateIncident`).
//! - Security roles with privilege depths, enforced on every request (reads, creates, updates,
//!   binds' Append/AppendTo, Assign on the owner, AddToQueue), and
//!   `systemusers(id)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()` (`security.rs`). The
//!   application user has a complete role unless a test sets another ([`Emulator::set_role`]).
//! - No application user: 401 (empty body, `WWW-Authenticate`) or 403 `0x80072560` "The user
//!   is not a member of the organization." ([`Emulator::set_no_application_user_answer`]).
//! - Files on notes (`files.rs`): `organizations` upload limits, Base64/size/blocked-extension
//!   checks of `documentbody`/`filename`, block upload actions.
//! - Service protection on demand: 429 with `Retry-After` (`0x80072322`), 503, added latency;
//!   or a random fraction of requests throttled, failing, slow or losing their answer (`chaos.rs`).
//!
//! Safe guesses where the real service is UNCONFIRMED: 401 with an empty body and a
//! `WWW-Authenticate` header for a bad token; a bad batch answers with the failed part's own
//! status; one queue item per case (AddToQueue to the same queue returns it).
//!
//! Not emulated: other tables, `$expand` beyond option sets, `$orderby`, paging, business rules.
#![warn(missing_docs)]

mod batch;
mod chaos;
mod db;
mod http;
mod odata;
mod schema;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use uuid::Uuid;

pub use chaos::{Chaos, ChaosKind};
pub use db::Db;
pub use db::security::{Depth, Role};
pub use schema::Kind;

/// Seeded facts of the emulated organisation.
#[derive(Debug, Clone)]
pub struct Config {
    /// Entra tenant id.
    pub tenant_id: String,
    /// The app registration's client id.
    pub client_id: String,
    /// Its client secret.
    pub client_secret: String,
    /// How long tokens live.
    pub token_lifetime: Duration,
    /// Port (0 picks a free one).
    pub port: u16,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tenant_id: "11111111-2222-3333-4444-555555555555".into(),
            client_id: "66666666-7777-8888-9999-000000000000".into(),
            client_secret: "emulator-secret-value".into(),
            token_lifetime: Duration::from_secs(3599),
            port: 0,
        }
    }
}

/// A fault to inject.
#[derive(Debug, Clone)]
pub struct Fault {
    /// HTTP status to answer (429, 500, 503...).
    pub status: u16,
    /// How many matching requests fail.
    pub count: u32,
    /// Only requests whose path contains this (e.g. `$batch`, `contacts`; `oauth2` for the token
    /// endpoint); `None` for any Web API request.
    pub path_contains: Option<String>,
    /// `Retry-After` seconds for a 429.
    pub retry_after: u64,
}

/// Mutable emulator state shared with the HTTP layer.
#[derive(Debug)]
pub(crate) struct State {
    pub db: Db,
    pub cfg: Config,
    pub tokens: BTreeMap<String, std::time::Instant>,
    pub faults: Vec<Fault>,
    pub latency: Duration,
    /// `Some(401)` or `Some(403)`: answer every API request as for an app without an
    /// application user.
    pub no_application_user: Option<u16>,
    pub counts: BTreeMap<String, u64>,
    pub chaos: Option<chaos::Active>,
}

/// The well-known ids the emulator seeds.
#[derive(Debug, Clone, Copy)]
pub struct Seeds {
    /// "Support Queue".
    pub queue_id: Uuid,
    /// The application user (also a valid owner).
    pub user_id: Uuid,
    /// A team ("Support Team").
    pub team_id: Uuid,
    /// The root business unit (the application user's, the queue's and the team's).
    pub business_unit_id: Uuid,
}

/// A running emulator.
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    seeds: Seeds,
    cfg: Config,
    _server: tokio::task::JoinHandle<()>,
}

impl Emulator {
    /// Start on 127.0.0.1 (in the current tokio runtime).
    pub async fn start(cfg: Config) -> anyhow::Result<Emulator> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.port)).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        let seeds = Seeds {
            queue_id: Uuid::new_v5(&Uuid::nil(), b"queue:support"),
            user_id: Uuid::new_v5(&Uuid::nil(), b"user:app"),
            team_id: Uuid::new_v5(&Uuid::nil(), b"team:support"),
            business_unit_id: Uuid::new_v5(&Uuid::nil(), b"bu"),
        };
        let bu = seeds.business_unit_id.to_string();
        let mut db = Db::new(base_url, seeds.user_id, seeds.business_unit_id);
        db.seed(
            "businessunits",
            seeds.business_unit_id,
            obj(json!({"name": "Contoso"})),
        );
        // The queue belongs to the support team, not to the application user: a role whose
        // prvAppendToQueue is only User (Basic) depth cannot add cases to it.
        db.seed(
            "queues",
            seeds.queue_id,
            obj(json!({"name": "Support Queue", "_ownerid_value": seeds.team_id.to_string(), "_owningbusinessunit_value": bu})),
        );
        db.seed(
            "systemusers",
            seeds.user_id,
            obj(json!({"fullname": "# mailcase application user", "_businessunitid_value": bu})),
        );
        db.seed(
            "teams",
            seeds.team_id,
            obj(json!({"name": "Support Team", "_businessunitid_value": bu})),
        );
        let state = Arc::new(Mutex::new(State {
            db,
            cfg: cfg.clone(),
            tokens: BTreeMap::new(),
            faults: Vec::new(),
            latency: Duration::ZERO,
            no_application_user: None,
            counts: BTreeMap::new(),
            chaos: None,
        }));
        let app = chaos::layer(
            db::files::allow_large_bodies(http::router(state.clone())),
            state.clone(),
        );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Emulator {
            addr,
            state,
            seeds,
            cfg,
            _server: server,
        })
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut guard = match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// `http://127.0.0.1:PORT` (both environment URL and token authority).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Secrets Manager secret's JSON for this emulator.
    pub fn credentials_json(&self) -> String {
        json!({
            "tenant_id": self.cfg.tenant_id,
            "client_id": self.cfg.client_id,
            "client_secret": self.cfg.client_secret,
            "environment_url": self.base_url(),
            "authority_host": self.base_url(),
        })
        .to_string()
    }

    /// Seeded ids.
    pub fn seeds(&self) -> Seeds {
        self.seeds
    }

    /// Fail matching requests (see [`Fault`]).
    pub fn inject(&self, fault: Fault) {
        self.with(|s| s.faults.push(fault));
    }

    /// Delay every API request.
    pub fn set_latency(&self, latency: Duration) {
        self.with(|s| s.latency = latency);
    }

    /// Remove a privilege (e.g. `prvCreateIncident`) from the application user's role.
    pub fn revoke(&self, privilege: &str) {
        self.with(|s| s.db.role.privileges.remove(privilege));
    }

    /// Give a privilege back (at Organization depth).
    pub fn grant(&self, privilege: &str) {
        self.with(|s| {
            s.db.role
                .privileges
                .insert(privilege.to_string(), Depth::Global)
        });
    }

    /// Replace the application user's security role.
    pub fn set_role(&self, role: Role) {
        self.with(|s| s.db.role = role);
    }

    /// The application user's security role.
    pub fn role(&self) -> Role {
        self.with(|s| s.db.role.clone())
    }

    /// Simulate an app registration without an application user in the environment (401).
    pub fn set_no_application_user(&self, on: bool) {
        self.with(|s| s.no_application_user = on.then_some(401));
    }

    /// The same with the answer chosen: `Some(401)`, `Some(403)` (`0x80072560`, "The user is
    /// not a member of the organization."), or `None` for a working application user.
    pub fn set_no_application_user_answer(&self, status: Option<u16>) {
        self.with(|s| s.no_application_user = status);
    }

    /// Add a custom incident column (e.g. a choice `new_customerpriority`).
    pub fn add_incident_column(&self, name: &str, kind: Kind) {
        self.with(|s| {
            if let Some(t) = s.db.tables.get_mut("incident") {
                t.columns.insert(name.to_string(), kind);
            }
        });
    }

    /// Change a column's maximum length (e.g. a shorter `description`).
    pub fn set_max_length(&self, entity: &str, column: &str, max: usize) {
        self.with(|s| {
            if let Some(Kind::String(m) | Kind::Memo(m)) =
                s.db.tables
                    .get_mut(entity)
                    .and_then(|t| t.columns.get_mut(column))
            {
                *m = max;
            }
        });
    }

    /// Add a record directly (e.g. an existing contact).
    pub fn seed(&self, set: &str, id: Uuid, fields: Value) {
        self.with(|s| s.db.seed(set, id, obj(fields)));
    }

    /// Set fields of an existing record directly (e.g. resolve a case: `statecode` 1).
    pub fn update(&self, set: &str, id: Uuid, fields: Value) {
        self.with(|s| {
            if let Some(r) = s.db.records.get_mut(set).and_then(|m| m.get_mut(&id)) {
                for (k, v) in obj(fields) {
                    r.insert(k, v);
                }
            }
        });
    }

    /// All records of an entity set.
    pub fn records(&self, set: &str) -> Vec<Map<String, Value>> {
        self.with(|s| {
            s.db.records
                .get(set)
                .map(|m| m.values().cloned().collect())
                .unwrap_or_default()
        })
    }

    /// API requests served (token requests excluded).
    pub fn request_count(&self) -> u64 {
        self.with(|s| {
            s.counts
                .iter()
                .filter(|(k, _)| !k.starts_with("token"))
                .map(|(_, v)| v)
                .sum()
        })
    }

    /// Requests by kind (`GET contacts`, `POST $batch`, `token`...).
    pub fn request_counts(&self) -> BTreeMap<String, u64> {
        self.with(|s| s.counts.clone())
    }

    /// Reset the request counts.
    pub fn reset_counts(&self) {
        self.with(|s| s.counts.clear());
    }
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}
