//! The one test world of the end-to-end tests: a fresh bucket on the shared moto server (or any
//! other store), a Dataverse emulator of the test's own, a Dynamics client for it, the handoff
//! settings and the ingest configuration, with the steps the tests take through them.
//!
//! ```ignore
//! let w = World::builder().retry(retries(2, 10, 50)).start("prefix").await;
//! let sid = w.ingest_file(Mail::default(), "ses-1").await;
//! let out = w.handoff(&sid, None).await?;
//! ```

use std::borrow::Cow;
use std::time::Duration;

use app::attachments::Mode;
use app::handoff::{HandoffError, LimitsCache, Outcome, Request, Settings};
use app::ingest::Config;
use app::reply::{ReplySettings, StoreOutbox};
use app::requests::Worker;
use dataverse_emulator::{Emulator, Seeds};
use dynamics::{Credentials, DataverseClient, Owner, RetryPolicy};
use serde_json::{Map, Value};
use store::sessions::Sessions;
use store::{MemoryObjectStore, ObjectStore, S3ObjectStore};
use testkit::MotoServer;

use crate::support::{Mail, receipt};

/// The `now` of [`World::handoff`].
pub const HANDOFF_AT: i64 = 1_710_300_000;

/// A retry policy: `attempts` tries, backing off from `base_ms` up to `max_ms`.
pub const fn retries(attempts: u32, base_ms: u64, max_ms: u64) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        base_delay: Duration::from_millis(base_ms),
        max_delay: Duration::from_millis(max_ms),
    }
}

/// The emulator org's queue, its team as owner and priority 1: what an operator configures.
pub fn org_settings(seeds: &Seeds) -> Settings {
    Settings {
        queue_id: Some(seeds.queue_id),
        owner: Some(Owner::Team(seeds.team_id)),
        priority: Some(1),
        ticket_properties: Map::new(),
        session_url_template: None,
        reopen_days: 0,
    }
}

/// Only the emulator org's queue.
pub fn queue_settings(seeds: &Seeds) -> Settings {
    Settings {
        queue_id: Some(seeds.queue_id),
        ..Settings::default()
    }
}

/// Nothing configured.
pub fn no_settings(_: &Seeds) -> Settings {
    Settings::default()
}

/// Mail to and from acme.com is ours; support@acme.com is the support address.
pub fn acme_config() -> Config {
    Config {
        internal_domains: vec!["acme.com".into()],
        own_addresses: vec!["support@acme.com".into()],
        ..Config::default()
    }
}

/// The follow-up request the queue carries for mail after the handoff.
pub fn followup_request(session_id: &str) -> Request {
    Request {
        session_id: session_id.into(),
        kind: Some("followup".into()),
        ..Request::default()
    }
}

/// A JSON object (ticket properties).
pub fn props(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// A string field of a Dataverse record, or "".
pub fn text(v: &Map<String, Value>, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

/// A fresh bucket on the shared moto server, as a store.
pub async fn s3_store(prefix: &str) -> S3ObjectStore {
    let moto = MotoServer::shared();
    let bucket = moto.bucket(prefix).await;
    S3ObjectStore::new(moto.s3().await, bucket, None)
}

/// What can be ingested: a [`Mail`] or raw RFC 5322 bytes.
pub trait RawMail {
    fn raw_mail(&self) -> Cow<'_, [u8]>;
}

impl RawMail for Mail<'_> {
    fn raw_mail(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.raw())
    }
}

impl RawMail for [u8] {
    fn raw_mail(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self)
    }
}

impl RawMail for Vec<u8> {
    fn raw_mail(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self)
    }
}

impl<T: RawMail + ?Sized> RawMail for &T {
    fn raw_mail(&self) -> Cow<'_, [u8]> {
        (**self).raw_mail()
    }
}

/// What a test varies before the world starts.
pub struct WorldBuilder {
    retry: RetryPolicy,
    settings: fn(&Seeds) -> Settings,
    ticket_properties: Option<Map<String, Value>>,
    session_url_template: Option<String>,
    config: Config,
    emulator: dataverse_emulator::Config,
}

impl WorldBuilder {
    /// The Dynamics client's retries (default: 8 tries, 20 ms to 2 s).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The handoff settings from the emulator's seeds (default: [`org_settings`]).
    pub fn settings(mut self, settings: fn(&Seeds) -> Settings) -> Self {
        self.settings = settings;
        self
    }

    /// `TICKET_PROPERTIES` on top of the settings.
    pub fn ticket_properties(mut self, v: Value) -> Self {
        self.ticket_properties = Some(props(v));
        self
    }

    /// `SESSION_URL_TEMPLATE` on top of the settings.
    pub fn session_url_template(mut self, template: &str) -> Self {
        self.session_url_template = Some(template.into());
        self
    }

    /// The ingest configuration (default: `Config::default()`).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The emulator's configuration (default: `dataverse_emulator::Config::default()`).
    pub fn emulator(mut self, cfg: dataverse_emulator::Config) -> Self {
        self.emulator = cfg;
        self
    }

    /// Start on a fresh bucket of the shared moto server.
    pub async fn start(self, prefix: &str) -> World {
        let store = s3_store(prefix).await;
        self.start_on(store).await
    }

    /// Start on `store` (memory, a directory, a wrapper).
    pub async fn start_on<O: ObjectStore>(self, store: O) -> World<O> {
        let emu = Emulator::start(self.emulator).await.expect("emulator");
        let mut settings = (self.settings)(&emu.seeds());
        if let Some(p) = self.ticket_properties {
            settings.ticket_properties = p;
        }
        if let Some(t) = self.session_url_template {
            settings.session_url_template = Some(t);
        }
        let crm = client(&emu.credentials_json(), self.retry.clone());
        World {
            emu,
            crm,
            sessions: Sessions::new(store),
            settings,
            limits: LimitsCache::default(),
            config: self.config,
            retry: self.retry,
        }
    }
}

fn client(creds_json: &str, retry: RetryPolicy) -> DataverseClient {
    DataverseClient::new(Credentials::from_json(creds_json).expect("creds"), retry).expect("client")
}

/// The store, the org and the settings one test works with.
pub struct World<O = S3ObjectStore> {
    /// The test's own Dataverse emulator: its records, request counts, faults, roles.
    pub emu: Emulator,
    /// A client for it (cold until the first request).
    pub crm: DataverseClient,
    pub sessions: Sessions<O>,
    pub settings: Settings,
    pub limits: LimitsCache,
    /// What ingest runs with.
    pub config: Config,
    /// The client's retries, for [`World::client`].
    pub retry: RetryPolicy,
}

impl World {
    pub fn builder() -> WorldBuilder {
        WorldBuilder {
            retry: retries(8, 20, 2000),
            settings: org_settings,
            ticket_properties: None,
            session_url_template: None,
            config: Config::default(),
            emulator: dataverse_emulator::Config::default(),
        }
    }

    /// The defaults on a fresh bucket.
    pub async fn start(prefix: &str) -> World {
        World::builder().start(prefix).await
    }
}

impl<O: ObjectStore> World<O> {
    /// A new client for the same org (a second cold process).
    pub fn client(&self) -> DataverseClient {
        self.client_with(&self.emu.credentials_json())
    }

    /// The emulator's credentials with one field replaced.
    pub fn creds_with(&self, field: &str, value: &str) -> String {
        let mut v: Value = serde_json::from_str(&self.emu.credentials_json()).expect("json");
        v[field] = Value::from(value);
        v.to_string()
    }

    /// A new client with these credentials.
    pub fn client_with(&self, creds_json: &str) -> DataverseClient {
        client(creds_json, self.retry.clone())
    }

    /// `app::ingest::run` with the world's configuration.
    pub async fn ingest(&self, mail: impl RawMail, ses: &str) -> app::ingest::Outcome {
        app::ingest::run(
            &self.sessions,
            &mail.raw_mail(),
            &receipt(ses),
            &self.config,
        )
        .await
        .expect("ingest")
    }

    /// Ingest a mail that must be filed; its session id.
    pub async fn ingest_file(&self, mail: impl RawMail, ses: &str) -> String {
        self.ingest(mail, ses).await.session_id.expect("filed")
    }

    /// The raw mail where SES puts it (`raw/<ses id>`), for the ingest handler.
    pub async fn put_raw(
        &self,
        ses: &str,
        mail: impl RawMail,
    ) -> Result<store::Etag, store::StoreError> {
        self.sessions
            .objects()
            .put_new(
                &format!("raw/{ses}"),
                mail.raw_mail().into_owned(),
                "message/rfc822",
            )
            .await
    }

    /// A Billing handoff (classified, with sentiment and summary) at [`HANDOFF_AT`].
    pub async fn handoff(
        &self,
        session_id: &str,
        handoff_id: Option<&str>,
    ) -> Result<Outcome, HandoffError> {
        let req = Request {
            session_id: session_id.into(),
            classification: Some("Billing".into()),
            sentiment: Some("negative".into()),
            summary: Some("Charged twice".into()),
            handoff_id: handoff_id.map(str::to_string),
            kind: None,
            ..Request::default()
        };
        self.run_handoff(&req, HANDOFF_AT).await
    }

    /// [`followup_request`] through [`World::run_handoff`].
    pub async fn followup(&self, session_id: &str) -> Result<Outcome, HandoffError> {
        self.run_handoff(&followup_request(session_id), 0).await
    }

    /// `app::handoff::run` with the world's client, settings and limits.
    pub async fn run_handoff(&self, req: &Request, now: i64) -> Result<Outcome, HandoffError> {
        self.run_handoff_with(req, now, Mode::List).await
    }

    /// [`World::run_handoff`] with an `ATTACHMENTS` mode.
    pub async fn run_handoff_with(
        &self,
        req: &Request,
        now: i64,
        mode: Mode,
    ) -> Result<Outcome, HandoffError> {
        app::handoff::run(
            &self.sessions,
            &self.crm,
            &self.settings,
            &self.limits,
            req,
            now,
            mode,
        )
        .await
    }
}

impl<O: ObjectStore + Clone> World<O> {
    /// The ingest Lambda's dependencies: the world's sessions and configuration, no queue.
    pub fn ingest_deps(&self) -> ingest::handler::Deps<O> {
        ingest::handler::Deps {
            sessions: self.sessions.clone(),
            raw_prefix: "raw/".into(),
            config: self.config.clone(),
            raw_retry: vec![Duration::from_millis(10)],
            queue: None,
            events: Box::new(app::ports::NoEvents),
            refused: None,
        }
    }

    /// The handoff Lambda's worker on a new client, replies into a memory outbox.
    pub fn worker(&self) -> Worker<O, StoreOutbox<MemoryObjectStore>> {
        self.worker_with(
            StoreOutbox::new(MemoryObjectStore::default()),
            ReplySettings::default(),
        )
    }

    /// The worker on a new client with this sender and these reply settings.
    pub fn worker_with<S>(&self, sender: S, reply: ReplySettings) -> Worker<O, S> {
        self.worker_for(self.client(), sender, reply)
    }

    /// The worker on `crm`.
    pub fn worker_for<S>(
        &self,
        crm: DataverseClient,
        sender: S,
        reply: ReplySettings,
    ) -> Worker<O, S> {
        Worker::new(self.sessions.clone(), crm, &self.settings, sender, reply)
    }
}
