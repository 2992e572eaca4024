//! The one world of the use-case tests: a memory store, a Dataverse emulator of the test's own
//! with a client that gives up quickly, the org's settings, the store's own handoff queue
//! (`StoreQueue`), an event feed that records what is published, and a local outbox. The steps
//! the tests take go through app's public entry points: `inbound::process`, `handoff::run`,
//! `requests::Worker::handle`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::handoff::{HandoffError, LimitsCache, Outcome, Request, Settings};
use app::inbound::Outlets;
use app::ingest::{Config, Receipt};
use app::ports::{BoxFuture, Event, EventSink, PortError, StoreQueue};
use app::reply::{ReplySettings, StoreOutbox};
use app::requests::{Failure, Worker};
use app::routing::{Policy, Routing};
use dataverse_emulator::Emulator;
use dynamics::{Credentials, DataverseClient, Owner, RetryPolicy};
use serde_json::{Map, Value};
use store::session::Session;
use store::sessions::Sessions;
use store::{MemoryObjectStore, ObjectStore};

/// When SES received the test mail (2024-03-12 10:15 UTC, the mails' Date).
pub const RECEIVED_AT: i64 = 1_710_238_500;
/// The `now` of handoffs and requests.
pub const HANDOFF_AT: i64 = 1_710_300_000;
/// The support address (ours: mail from it is a loop).
pub const SUPPORT: &str = "support@acme.com";

/// Three tries, 5 to 20 ms apart: a fault outlasting them is reported within milliseconds.
pub const ATTEMPTS: u32 = 3;

fn retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: ATTEMPTS,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

/// A raw RFC 5322 message, built up from a customer's first mail.
#[derive(Debug, Clone)]
pub struct Mail {
    headers: Vec<(String, String)>,
    body: String,
}

/// Ana's mail with this Message-ID (without brackets).
pub fn mail(message_id: &str) -> Mail {
    Mail {
        headers: vec![
            ("From".into(), "Ana Lima <ana@client.example>".into()),
            ("To".into(), SUPPORT.into()),
            ("Subject".into(), "Order 1042 arrived damaged".into()),
            ("Date".into(), "Tue, 12 Mar 2024 10:15:00 +0000".into()),
            ("Message-ID".into(), format!("<{message_id}>")),
        ],
        body: "My order 1042 arrived damaged.".into(),
    }
}

impl Mail {
    /// Set (replace or add) a header.
    pub fn header(mut self, name: &str, value: &str) -> Mail {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Without this header.
    pub fn without(mut self, name: &str) -> Mail {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// From.
    pub fn from(self, from: &str) -> Mail {
        self.header("From", from)
    }

    /// Subject.
    pub fn subject(self, subject: &str) -> Mail {
        self.header("Subject", subject)
    }

    /// Date.
    pub fn date(self, date: &str) -> Mail {
        self.header("Date", date)
    }

    /// The text.
    pub fn body(mut self, body: &str) -> Mail {
        self.body = body.into();
        self
    }

    /// An answer to `parent`: In-Reply-To and References name it, the subject gets `Re:`.
    pub fn reply_to(self, parent: &str) -> Mail {
        let subject = format!("Re: {}", self.get("Subject"));
        self.header("In-Reply-To", &format!("<{parent}>"))
            .header("References", &format!("<{parent}>"))
            .subject(&subject)
    }

    fn get(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    }

    /// The bytes SES stores.
    pub fn raw(&self) -> Vec<u8> {
        let mut s = String::new();
        for (n, v) in &self.headers {
            s.push_str(&format!("{n}: {v}\r\n"));
        }
        s.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
        s.push_str(&self.body);
        s.push_str("\r\n");
        s.into_bytes()
    }
}

/// An event bus that keeps what it is given.
#[derive(Debug, Clone, Default)]
pub struct Feed(Arc<Mutex<Vec<Event>>>);

impl EventSink for Feed {
    fn publish<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<(), PortError>> {
        Box::pin(async move {
            self.0
                .lock()
                .map_err(|_| PortError {
                    message: "feed lock poisoned".into(),
                    retryable: false,
                })?
                .extend_from_slice(events);
            Ok(())
        })
    }
}

impl Feed {
    /// The detail types published so far, in order.
    pub fn types(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|v| v.iter().map(|e| e.detail_type.clone()).collect())
            .unwrap_or_default()
    }

    /// The details of the events of one type.
    pub fn of(&self, detail_type: &str) -> Vec<Value> {
        self.0
            .lock()
            .map(|v| {
                v.iter()
                    .filter(|e| e.detail_type == detail_type)
                    .map(|e| e.detail.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The worker's type: the world's store, replies into the store's `outbox/`.
pub type LocalWorker = Worker<MemoryObjectStore, StoreOutbox<MemoryObjectStore>>;

/// A string field of a Dataverse record, or "".
pub fn text(record: &Map<String, Value>, field: &str) -> String {
    record
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// What one test works with.
pub struct World {
    /// The test's own Dataverse emulator.
    pub emu: Emulator,
    /// A client for it.
    pub crm: DataverseClient,
    /// Sessions in a memory store.
    pub sessions: Sessions<MemoryObjectStore>,
    /// The org's queue, its team as owner, priority 1.
    pub settings: Settings,
    /// Ingest's configuration: acme.com is ours, support@acme.com our address.
    pub config: Config,
    /// The column limits `handoff::run` reads.
    pub limits: LimitsCache,
    /// Everything published.
    pub feed: Feed,
    queue: StoreQueue<MemoryObjectStore>,
}

impl World {
    /// Manual handoffs only.
    pub async fn start() -> World {
        World::with_policy(Policy::Manual).await
    }

    /// Manual handoffs, and Ana's first mail (`m1@client.example`) filed: its session id.
    pub async fn with_session() -> (World, String) {
        let w = World::start().await;
        let sid = w.file(&mail("m1@client.example"), "ses-1").await;
        (w, sid)
    }

    /// The `*` route's handoff policy is `policy`.
    pub async fn with_policy(policy: Policy) -> World {
        let emu = Emulator::start(dataverse_emulator::Config::default())
            .await
            .expect("emulator");
        let seeds = emu.seeds();
        let settings = Settings {
            queue_id: Some(seeds.queue_id),
            owner: Some(Owner::Team(seeds.team_id)),
            priority: Some(1),
            // Never reopen: mail to a resolved case starts a new one (followup.rs tests it).
            reopen_days: 0,
            ..Settings::default()
        };
        let config = Config {
            internal_domains: vec!["acme.com".into()],
            own_addresses: vec![SUPPORT.into()],
            routing: Routing::from_settings(&settings, policy),
            ..Config::default()
        };
        let crm = World::client_for(&emu.credentials_json());
        let sessions = Sessions::new(MemoryObjectStore::default());
        World {
            queue: StoreQueue::new(sessions.clone(), || RECEIVED_AT),
            emu,
            crm,
            sessions,
            settings,
            config,
            limits: LimitsCache::default(),
            feed: Feed::default(),
        }
    }

    /// A client for the world's emulator with these credentials (JSON of the secret).
    pub fn client_for(creds_json: &str) -> DataverseClient {
        DataverseClient::new(Credentials::from_json(creds_json).expect("creds"), retry())
            .expect("client")
    }

    /// The ingest Lambda's path: `app::inbound::process` into the store's queue and the feed.
    pub async fn ingest(&self, mail: &Mail, ses_id: &str) -> app::ingest::Outcome {
        self.ingest_raw(&mail.raw(), ses_id).await
    }

    /// [`World::ingest`] of raw bytes.
    pub async fn ingest_raw(&self, raw: &[u8], ses_id: &str) -> app::ingest::Outcome {
        let receipt = Receipt {
            ses_message_id: ses_id.into(),
            received_at: RECEIVED_AT,
            ..Receipt::default()
        };
        let out = Outlets {
            queue: Some(&self.queue),
            events: &self.feed,
        };
        app::inbound::process(&self.sessions, raw, &receipt, &self.config, out)
            .await
            .expect("ingest")
    }

    /// Ingest a mail that must be filed; its session id.
    pub async fn file(&self, mail: &Mail, ses_id: &str) -> String {
        let o = self.ingest(mail, ses_id).await;
        o.session_id
            .unwrap_or_else(|| panic!("not filed: {} ({})", o.disposition, o.reason))
    }

    /// The stored session.
    pub async fn session(&self, session_id: &str) -> Session {
        self.sessions
            .load(session_id)
            .await
            .expect("load")
            .expect("session")
    }

    /// Every session in the store.
    pub async fn sessions(&self) -> Vec<Session> {
        self.sessions.list().await.expect("list")
    }

    /// The keys under a store prefix.
    pub async fn keys(&self, prefix: &str) -> Vec<String> {
        self.sessions.objects().list(prefix).await.expect("list")
    }

    /// The bytes stored under `key`.
    pub async fn bytes(&self, key: &str) -> Vec<u8> {
        let object = self.sessions.objects().get(key).await.expect("read");
        object.unwrap_or_else(|| panic!("no {key}")).bytes
    }

    /// `app::handoff::run` of a Billing request (sentiment and summary given).
    pub async fn handoff(
        &self,
        session_id: &str,
        handoff_id: Option<&str>,
    ) -> Result<Outcome, HandoffError> {
        let req = billing(session_id, handoff_id);
        app::handoff::run(
            &self.sessions,
            &self.crm,
            &self.settings,
            &self.limits,
            &req,
            HANDOFF_AT,
            app::attachments::Mode::List,
        )
        .await
    }

    /// The handoff Lambda's worker on a new client: the world's store, queue and feed, replies
    /// from support@acme.com into the store's outbox, no acknowledgement.
    pub fn worker(&self) -> LocalWorker {
        let reply = ReplySettings {
            support: Some(::mail::Mailbox {
                name: Some("Acme Support".into()),
                address: SUPPORT.into(),
            }),
            ..ReplySettings::default()
        };
        let crm = World::client_for(&self.emu.credentials_json());
        let mut w = Worker::new(
            self.sessions.clone(),
            crm,
            &self.settings,
            self.outbox(),
            reply,
        );
        w.routing = self.config.routing.clone();
        w.queue = Some(Box::new(self.queue.clone()));
        w.events = Box::new(self.feed.clone());
        w
    }

    /// The local outbox: mail we send lands under `outbox/` in the world's store.
    pub fn outbox(&self) -> StoreOutbox<MemoryObjectStore> {
        StoreOutbox::new(self.sessions.objects().clone())
    }

    /// The requests waiting in the store's queue, oldest first.
    pub async fn queued(&self) -> Vec<Request> {
        self.queue
            .due(i64::MAX, true)
            .await
            .expect("queue")
            .into_iter()
            .map(|(_, q)| serde_json::from_str(&q.body).expect("request body"))
            .collect()
    }

    /// `mailcase work`: hand every queued request to `worker` at `now`, removing each.
    pub async fn work_queue(&self, worker: &LocalWorker, now: i64) -> Vec<Result<Value, Failure>> {
        let mut results = Vec::new();
        for (key, q) in self.queue.due(i64::MAX, true).await.expect("queue") {
            let req: Request = serde_json::from_str(&q.body).expect("request body");
            results.push(worker.handle(&req, now).await);
            self.queue.remove(&key).await.expect("remove");
        }
        results
    }

    /// The incident with this id.
    pub fn incident(&self, incident_id: &str) -> Map<String, Value> {
        let all = self.records("incidents");
        let found = all
            .into_iter()
            .find(|i| text(i, "incidentid") == incident_id);
        found.unwrap_or_else(|| panic!("no incident {incident_id}"))
    }

    /// The records of an entity set in the org.
    pub fn records(&self, set: &str) -> Vec<Map<String, Value>> {
        self.emu.records(set)
    }
}

/// A Billing handoff request, negative, with a summary.
pub fn billing(session_id: &str, handoff_id: Option<&str>) -> Request {
    Request {
        session_id: session_id.into(),
        classification: Some("Billing".into()),
        sentiment: Some("negative".into()),
        summary: Some("Charged twice".into()),
        handoff_id: handoff_id.map(str::to_string),
        ..Request::default()
    }
}
