//! Soak and fault run through the real Lambda handlers, shared by the `soak` test (a short
//! configuration, part of `cargo test`) and the `soak` example (the full one:
//! `cargo run --profile bench -p it --example soak`).
//!
//! 1. Mail: `threads` email threads of `messages` messages in all (a first message, then
//!    replies with `In-Reply-To`/`References`; some replies are delivered before their parent,
//!    some before the thread's first message). Raw mail is put under `raw/<ses id>` in a moto
//!    bucket as SES's S3 action would, then `ingest::handler::handle` gets the SES receipt
//!    events, `ingest_concurrency` at a time. Messages of one thread arrive one after another
//!    (as mail does); a fraction of events is delivered twice with the same SES id, half of them
//!    concurrently with the first delivery, half later. A failed invocation is retried as Lambda
//!    retries an asynchronous invocation (twice).
//! 2. Handoffs: one per session through `handoff::handler::handle`, against the Dataverse
//!    emulator with a fraction of Web API requests throttled (429, `Retry-After: 1`), failing
//!    (503), slow, or executed with their answer lost (504). Every handoff is invoked twice: as
//!    SQS batches (failed records redelivered, up to the queue's receive count of 5) and direct
//!    invocations (retried twice), some of the pairs concurrently.
//! 3. Checks: every message filed exactly once in its thread's session, one session per
//!    thread, one incident per session, contacts = distinct senders, every case in the queue,
//!    every session handed off with the incident id and ticket number of an incident; no unfiled
//!    or rejected mail, no dead letters; time and requests within bounds.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use app::handoff::Settings;
use dataverse_emulator::{Chaos, ChaosKind, Emulator};
use dynamics::{Credentials, DataverseClient, RetryPolicy};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use store::session::SessionState;
use store::sessions::Sessions;
use store::{CountingObjectStore, MemoryObjectStore, ObjectStore, S3ObjectStore};
use testkit::MotoServer;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Sizes and rates of one run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Messages in all threads (each distinct; redeliveries come on top).
    pub messages: usize,
    /// Email threads, so sessions and handoffs.
    pub threads: usize,
    /// Distinct customer addresses (a customer may write several threads).
    pub senders: usize,
    /// Ingest invocations running at once.
    pub ingest_concurrency: usize,
    /// Fraction of SES events delivered twice.
    pub duplicate_fraction: f64,
    /// Fraction of threads with a reply delivered before its parent.
    pub early_reply_fraction: f64,
    /// Fraction of Dataverse Web API requests that fail or are slow.
    pub fault_fraction: f64,
    /// Handoff invocations running at once.
    pub handoff_concurrency: usize,
    /// Seed of everything random.
    pub seed: u64,
    /// The whole run must finish within this.
    pub time_limit: Duration,
}

impl Plan {
    /// 1,000 messages, 200 threads, ingest concurrency 32, 10% redelivered, 20% Dynamics faults.
    pub fn full() -> Plan {
        Plan {
            messages: 1000,
            threads: 200,
            senders: 160,
            ingest_concurrency: 32,
            duplicate_fraction: 0.10,
            early_reply_fraction: 0.15,
            fault_fraction: 0.20,
            handoff_concurrency: 8,
            seed: 20_240_312,
            time_limit: Duration::from_secs(900),
        }
    }

    /// The `cargo test` size: 150 messages, 30 threads.
    pub fn short() -> Plan {
        Plan {
            messages: 150,
            threads: 30,
            senders: 24,
            early_reply_fraction: 0.25,
            time_limit: Duration::from_secs(240),
            ..Plan::full()
        }
    }
}

/// What a run measured.
#[derive(Debug, Default)]
pub struct Report {
    /// SES events delivered (messages + redeliveries).
    pub deliveries: usize,
    /// Of which delivered concurrently with their first copy.
    pub concurrent_duplicates: usize,
    /// Threads with a reply delivered before its parent.
    pub early_threads: usize,
    /// Ingest invocations retried after an error.
    pub ingest_retries: u64,
    /// Wall time of the ingest phase.
    pub ingest_secs: f64,
    /// S3 requests of the ingest handler: (GET, PUT, LIST, total).
    pub ingest_s3: (u64, u64, u64, u64),
    /// Sessions after ingest.
    pub sessions: usize,
    /// Handoff invocations (first deliveries, not counting retries).
    pub handoff_invocations: usize,
    /// Wall time of the handoff phase.
    pub handoff_secs: f64,
    /// S3 requests of the handoff handler.
    pub handoff_s3: u64,
    /// HTTP requests the Dataverse client sent (token included, retries included).
    pub dynamics_client_requests: u64,
    /// Web API requests the emulator received (token excluded).
    pub dynamics_emulator_requests: u64,
    /// Requests by kind at the emulator.
    pub dynamics_by_kind: BTreeMap<String, u64>,
    /// `DataverseClient::retries()`.
    pub dynamics_retries: u64,
    /// Faults the emulator injected, by kind.
    pub faults: BTreeMap<String, u64>,
    /// SQS records redelivered after a reported failure.
    pub sqs_redeliveries: u64,
    /// Direct invocations retried after an error.
    pub direct_retries: u64,
    /// Incidents, contacts, queue items at the end.
    pub incidents: usize,
    /// Contacts.
    pub contacts: usize,
    /// Distinct sender addresses.
    pub distinct_senders: usize,
    /// Queue items.
    pub queue_items: usize,
    /// Whole run.
    pub total_secs: f64,
}

impl Report {
    /// Messages per second of the ingest phase (deliveries, redeliveries included).
    pub fn messages_per_sec(&self) -> f64 {
        self.deliveries as f64 / self.ingest_secs
    }

    /// Handoffs per second (sessions handed off, each invoked twice).
    pub fn handoffs_per_sec(&self) -> f64 {
        self.sessions as f64 / self.handoff_secs
    }

    /// Human-readable figures, one per line.
    pub fn lines(&self, plan: &Plan) -> Vec<String> {
        let per = |n: u64, d: usize| n as f64 / d.max(1) as f64;
        let (g, p, l, t) = self.ingest_s3;
        vec![
            format!(
                "plan: {} messages in {} threads from {} senders; ingest concurrency {}; {:.0}% of SES events redelivered; {:.0}% of Dynamics requests faulty; handoff concurrency {}; seed {}",
                plan.messages,
                plan.threads,
                self.distinct_senders,
                plan.ingest_concurrency,
                plan.duplicate_fraction * 100.0,
                plan.fault_fraction * 100.0,
                plan.handoff_concurrency,
                plan.seed
            ),
            format!(
                "ingest: {} SES events ({} redeliveries, {} concurrent with the first copy; {} threads with a reply before its parent) in {:.2} s = {:.1} messages/s; {} invocation retries",
                self.deliveries,
                self.deliveries - plan.messages,
                self.concurrent_duplicates,
                self.early_threads,
                self.ingest_secs,
                self.messages_per_sec(),
                self.ingest_retries
            ),
            format!(
                "ingest S3 requests: {:.2} per SES event, {:.2} per message (GET {g}, PUT {p}, LIST {l}, total {t})",
                per(t, self.deliveries),
                per(t, plan.messages)
            ),
            format!(
                "handoff: {} sessions, {} invocations ({} SQS redeliveries, {} direct retries) in {:.2} s = {:.1} handoffs/s; S3 {:.2} requests per handoff",
                self.sessions,
                self.handoff_invocations,
                self.sqs_redeliveries,
                self.direct_retries,
                self.handoff_secs,
                self.handoffs_per_sec(),
                per(self.handoff_s3, self.sessions)
            ),
            format!(
                "Dynamics: {:.2} requests per handoff sent by the client ({} incl. token and retries), {:.2} received by the emulator per handoff; {} retries (DataverseClient::retries); faults injected {:?}",
                per(self.dynamics_client_requests, self.sessions),
                self.dynamics_client_requests,
                per(self.dynamics_emulator_requests, self.sessions),
                self.dynamics_retries,
                self.faults
            ),
            format!("Dynamics requests by kind: {:?}", self.dynamics_by_kind),
            format!(
                "end state: {} sessions, {} incidents, {} contacts (distinct senders {}), {} queue items; total {:.1} s",
                self.sessions,
                self.incidents,
                self.contacts,
                self.distinct_senders,
                self.queue_items,
                self.total_secs
            ),
        ]
    }
}

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// One message of the corpus.
struct Message {
    thread: usize,
    ses_id: String,
    message_id: String,
    raw: Vec<u8>,
}

/// A delivery of an SES event: the message index, and whether a second copy goes at the same time.
#[derive(Clone, Copy)]
struct Delivery {
    message: usize,
    concurrent_copy: bool,
}

struct Corpus {
    messages: Vec<Message>,
    /// Per thread, deliveries in order.
    schedule: Vec<Vec<Delivery>>,
    senders: Vec<String>,
    early_threads: usize,
    concurrent_duplicates: usize,
    deliveries: usize,
}

fn sender_address(n: usize) -> String {
    format!("customer{n}@client{}.example", n % 7)
}

fn corpus(plan: &Plan, rng: &mut Rng) -> Corpus {
    assert!(plan.messages >= plan.threads && plan.threads > 0);
    let mut sizes = vec![1usize; plan.threads];
    for _ in plan.threads..plan.messages {
        let t = rng.below(plan.threads);
        sizes[t] += 1;
    }
    let mut messages = Vec::new();
    let mut schedule = Vec::new();
    let mut senders = Vec::new();
    let (mut early_threads, mut concurrent_duplicates, mut deliveries) = (0, 0, 0);
    let base = 1_710_238_500i64; // 2024-03-12T10:15:00Z
    for (t, &size) in sizes.iter().enumerate() {
        let s = if t < plan.senders {
            t
        } else {
            rng.below(plan.senders)
        };
        let address = sender_address(s);
        senders.push(address.clone());
        let subject = format!("Order {} problem #{t}", 4000 + t);
        let first = messages.len();
        let ids: Vec<String> = (0..size)
            .map(|k| {
                format!(
                    "t{t}-m{k}.{}@mail.client{}.example",
                    rng.next() % 1_000_000,
                    s % 7
                )
            })
            .collect();
        for k in 0..size {
            let when = base + (t as i64) * 37 + (k as i64) * 3600;
            let date = mail::rfc822_date(when);
            // Replies sometimes write the address in other case, as mail clients do.
            let from = if k % 3 == 2 {
                format!("Customer {s} <{}>", address.to_uppercase())
            } else {
                format!("Customer {s} <{address}>")
            };
            let mut raw = format!(
                "From: {from}\r\nTo: support@acme.com\r\nSubject: {}{subject}\r\nDate: {date}\r\nMessage-ID: <{}>\r\n",
                if k == 0 { "" } else { "Re: " },
                ids[k]
            );
            if k > 0 {
                raw.push_str(&format!("In-Reply-To: <{}>\r\n", ids[k - 1]));
                let refs: Vec<String> = ids[k.saturating_sub(10)..k]
                    .iter()
                    .map(|i| format!("<{i}>"))
                    .collect();
                raw.push_str(&format!("References: {}\r\n", refs.join(" ")));
            }
            let text = format!(
                "Hello,\r\n\r\nthis is message {k} of thread {t}: the parcel for order {} is still missing.\r\n",
                4000 + t
            );
            let quoted = if k > 0 {
                format!(
                    "\r\nOn {}, Customer {s} <{address}> wrote:\r\n> message {} of thread {t}\r\n> more quoted history\r\n",
                    mail::rfc822_date(when - 3600),
                    k - 1
                )
            } else {
                String::new()
            };
            if (t + k) % 10 == 0 {
                raw.push_str("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
                raw.push_str(&text);
                raw.push_str(&quoted);
                raw.push_str("--b1\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"photo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==\r\n--b1--\r\n");
            } else {
                raw.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
                raw.push_str(&text);
                raw.push_str(&quoted);
            }
            messages.push(Message {
                thread: t,
                ses_id: format!("soak{t:04}x{k:03}{:08x}", rng.next() as u32),
                message_id: ids[k].clone(),
                raw: raw.into_bytes(),
            });
        }
        let mut order: Vec<usize> = (first..first + size).collect();
        if size >= 2 && rng.chance(plan.early_reply_fraction) {
            // A reply overtakes its parent (j = 0: the first reply overtakes the first message).
            let j = rng.below(size - 1);
            order.swap(j, j + 1);
            early_threads += 1;
        }
        let mut plan_t = Vec::new();
        let mut later = Vec::new();
        for m in order {
            let dup = rng.chance(plan.duplicate_fraction);
            let concurrent = dup && rng.chance(0.5);
            plan_t.push(Delivery {
                message: m,
                concurrent_copy: concurrent,
            });
            deliveries += 1;
            if concurrent {
                concurrent_duplicates += 1;
                deliveries += 1;
            } else if dup {
                later.push(Delivery {
                    message: m,
                    concurrent_copy: false,
                });
                deliveries += 1;
            }
        }
        plan_t.extend(later);
        schedule.push(plan_t);
    }
    Corpus {
        messages,
        schedule,
        senders,
        early_threads,
        concurrent_duplicates,
        deliveries,
    }
}

fn ses_event(ses_id: &str) -> Value {
    json!({"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {
        "mail": {"messageId": ses_id, "timestamp": "2024-03-12T10:15:02.512Z", "source": "customer@client.example"},
        "receipt": {"timestamp": "2024-03-12T10:15:02.512Z", "spamVerdict": {"status": "PASS"}, "virusVerdict": {"status": "PASS"}}
    }}]})
}

type Store = CountingObjectStore<S3ObjectStore>;

/// One ingest invocation, retried twice on error as Lambda does for asynchronous invocations.
async fn ingest_once(
    deps: &ingest::handler::Deps<Store>,
    sem: &Semaphore,
    retries: &AtomicU64,
    ses_id: &str,
) -> Result<Value, String> {
    let _permit = sem.acquire().await.expect("semaphore");
    let mut last = String::new();
    for attempt in 0..3 {
        if attempt > 0 {
            retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        match ingest::handler::handle(
            deps,
            LambdaEvent::new(ses_event(ses_id), Context::default()),
        )
        .await
        {
            Ok(v) => return Ok(v),
            Err(d) => last = format!("{}: {}", d.error_type, d.error_message),
        }
    }
    Err(format!("{ses_id}: failed 3 times: {last}"))
}

type HandoffDeps = handoff::handler::Deps<Store, app::reply::StoreOutbox<MemoryObjectStore>>;

/// One handoff invocation unit.
enum Unit {
    /// An SQS batch of (record id, body).
    Batch(Vec<(String, Value)>),
    /// A direct invocation.
    Direct(Value),
    /// Two units at the same time.
    Pair(Box<Unit>, Box<Unit>),
}

#[derive(Default)]
struct HandoffStats {
    sqs_redeliveries: AtomicU64,
    direct_retries: AtomicU64,
    dead_letters: std::sync::Mutex<Vec<String>>,
    outcomes: std::sync::Mutex<Vec<Value>>,
}

fn sqs_event(records: &[(String, Value)]) -> Value {
    let records: Vec<Value> = records
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id,
                "receiptHandle": format!("rh-{id}"),
                "body": body.to_string(),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:mailcase-handoff",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Run a unit. SQS: records reported in `batchItemFailures` come back (receive count up to 5,
/// then the dead-letter queue); direct: retried twice on error. Each successful handoff's
/// outcome is recorded.
fn run_unit<'a>(
    deps: &'a HandoffDeps,
    stats: &'a HandoffStats,
    unit: Unit,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        match unit {
            Unit::Pair(a, b) => {
                tokio::join!(run_unit(deps, stats, *a), run_unit(deps, stats, *b));
            }
            Unit::Direct(req) => {
                let mut last = String::new();
                for attempt in 0..3 {
                    if attempt > 0 {
                        stats.direct_retries.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    match handoff::handler::handle(
                        deps,
                        LambdaEvent::new(req.clone(), Context::default()),
                    )
                    .await
                    {
                        Ok(v) => {
                            stats.outcomes.lock().expect("lock").push(v);
                            return;
                        }
                        Err(d) => last = format!("{}: {}", d.error_type, d.error_message),
                    }
                }
                stats
                    .dead_letters
                    .lock()
                    .expect("lock")
                    .push(format!("direct {req}: {last}"));
            }
            Unit::Batch(mut records) => {
                for receive in 1..=5 {
                    if receive > 1 {
                        stats
                            .sqs_redeliveries
                            .fetch_add(records.len() as u64, Ordering::Relaxed);
                        // The visibility timeout, scaled down.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    let out = handoff::handler::handle(
                        deps,
                        LambdaEvent::new(sqs_event(&records), Context::default()),
                    )
                    .await
                    .expect("an SQS batch invocation reports failures per record");
                    let failed: BTreeSet<String> = out["batchItemFailures"]
                        .as_array()
                        .expect("batchItemFailures")
                        .iter()
                        .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_string))
                        .collect();
                    // The handler's per-record outcomes are not in an SQS response; the end
                    // state is checked from the store and Dynamics instead.
                    records.retain(|(id, _)| failed.contains(id));
                    if records.is_empty() {
                        return;
                    }
                }
                let mut dead = stats.dead_letters.lock().expect("lock");
                for (id, body) in records {
                    dead.push(format!("sqs {id} {body}: dead-lettered after 5 receives"));
                }
            }
        }
    })
}

/// Run the soak; panics with the failed check.
pub async fn run(plan: &Plan) -> Report {
    match tokio::time::timeout(plan.time_limit, run_inner(plan)).await {
        Ok(r) => r,
        Err(_) => panic!(
            "soak did not finish within {:?} (plan {plan:?})",
            plan.time_limit
        ),
    }
}

async fn run_inner(plan: &Plan) -> Report {
    let started = Instant::now();
    let mut rng = Rng(plan.seed);
    let mut report = Report::default();
    let corpus = corpus(plan, &mut rng);
    report.deliveries = corpus.deliveries;
    report.early_threads = corpus.early_threads;
    report.concurrent_duplicates = corpus.concurrent_duplicates;
    let distinct: BTreeSet<String> = corpus.senders.iter().cloned().collect();
    report.distinct_senders = distinct.len();

    let moto = MotoServer::start();
    let bucket = moto.bucket("soak").await;
    let s3 = moto.s3().await;
    let plain = Sessions::new(S3ObjectStore::new(s3.clone(), &bucket, None));

    // SES's S3 action: every raw mail is in the bucket before its event.
    {
        let sem = Arc::new(Semaphore::new(plan.ingest_concurrency));
        let mut puts = JoinSet::new();
        for m in &corpus.messages {
            let store = S3ObjectStore::new(s3.clone(), &bucket, None);
            let key = format!("raw/{}", m.ses_id);
            let raw = m.raw.clone();
            let sem = sem.clone();
            puts.spawn(async move {
                let _p = sem.acquire().await.expect("semaphore");
                store
                    .put_new(&key, raw, "message/rfc822")
                    .await
                    .expect("put raw mail");
            });
        }
        while let Some(r) = puts.join_next().await {
            r.expect("join");
        }
    }

    // Ingest.
    let counted = CountingObjectStore::new(S3ObjectStore::new(s3.clone(), &bucket, None));
    let ingest_counts = counted.counts.clone();
    let deps = Arc::new(ingest::handler::Deps {
        sessions: Sessions::new(counted),
        raw_prefix: "raw/".into(),
        config: app::ingest::Config {
            internal_domains: vec!["acme.com".into()],
            own_addresses: vec!["support@acme.com".into()],
            ..Default::default()
        },
        raw_retry: ingest::config::RAW_RETRY.to_vec(),
        queue: None,
        events: Box::new(app::ports::NoEvents),
        refused: None,
    });
    let sem = Arc::new(Semaphore::new(plan.ingest_concurrency));
    let retries = Arc::new(AtomicU64::new(0));
    let ses_ids: Arc<Vec<String>> =
        Arc::new(corpus.messages.iter().map(|m| m.ses_id.clone()).collect());
    let ingest_started = Instant::now();
    let mut threads = JoinSet::new();
    for (t, deliveries) in corpus.schedule.iter().enumerate() {
        let deliveries = deliveries.clone();
        let (deps, sem, retries, ses_ids) =
            (deps.clone(), sem.clone(), retries.clone(), ses_ids.clone());
        threads.spawn(async move {
            let mut outcomes = Vec::new();
            for d in deliveries {
                let id = &ses_ids[d.message];
                if d.concurrent_copy {
                    let (a, b) = tokio::join!(
                        ingest_once(&deps, &sem, &retries, id),
                        ingest_once(&deps, &sem, &retries, id)
                    );
                    outcomes.push((d.message, a));
                    outcomes.push((d.message, b));
                } else {
                    outcomes.push((d.message, ingest_once(&deps, &sem, &retries, id).await));
                }
            }
            (t, outcomes)
        });
    }
    let mut outcomes: Vec<(usize, Result<Value, String>)> = Vec::new();
    while let Some(r) = threads.join_next().await {
        outcomes.extend(r.expect("join").1);
    }
    report.ingest_secs = ingest_started.elapsed().as_secs_f64();
    report.ingest_retries = retries.load(Ordering::Relaxed);
    report.ingest_s3 = {
        let (g, p) = ingest_counts.gets_puts();
        let l = ingest_counts.lists.load(Ordering::Relaxed);
        (g, p, l, ingest_counts.total())
    };

    // Ingest checks.
    let mut session_of_thread: BTreeMap<usize, String> = BTreeMap::new();
    let mut first_copies = 0usize;
    for (m, out) in &outcomes {
        let out = out
            .as_ref()
            .unwrap_or_else(|e| panic!("ingest failed: {e}"));
        let o = &out["outcomes"][0];
        assert_eq!(o["disposition"], "customer", "message {m} not filed: {out}");
        let sid = o["session_id"].as_str().expect("session id").to_string();
        let t = corpus.messages[*m].thread;
        let known = session_of_thread.entry(t).or_insert_with(|| sid.clone());
        assert_eq!(
            *known, sid,
            "thread {t} split over two sessions (message {m}: {out})"
        );
        if o["duplicate"] == false {
            first_copies += 1;
        }
    }
    if report.ingest_retries == 0 {
        assert_eq!(
            first_copies, plan.messages,
            "every message is new exactly once; every redelivery is reported a duplicate"
        );
    }
    let all = plain.list().await.expect("list sessions");
    report.sessions = all.len();
    assert_eq!(all.len(), plan.threads, "one session per thread");
    let mut thread_of_session: BTreeMap<String, usize> = BTreeMap::new();
    for (t, sid) in &session_of_thread {
        assert!(
            thread_of_session.insert(sid.clone(), *t).is_none(),
            "two threads share session {sid}"
        );
    }
    for s in &all {
        let t = *thread_of_session
            .get(&s.id)
            .unwrap_or_else(|| panic!("session {} belongs to no thread", s.id));
        let mut want: Vec<String> = corpus
            .messages
            .iter()
            .filter(|m| m.thread == t)
            .map(|m| m.message_id.clone())
            .collect();
        let mut have: Vec<String> = s
            .messages
            .iter()
            .map(|m| {
                m.message_id
                    .clone()
                    .unwrap_or_default()
                    .trim_matches(['<', '>'])
                    .to_string()
            })
            .collect();
        want.sort();
        have.sort();
        assert_eq!(
            have, want,
            "session {} holds each message of thread {t} exactly once",
            s.id
        );
        assert_eq!(s.state, SessionState::Open);
        assert_eq!(
            s.customer.as_ref().map(|c| c.address.to_lowercase()),
            Some(corpus.senders[t].clone()),
            "session {} customer",
            s.id
        );
    }
    let bodies = plain
        .objects()
        .list("sessions/")
        .await
        .expect("list")
        .iter()
        .filter(|k| k.contains("/messages/"))
        .count();
    assert_eq!(bodies, plan.messages, "one stored body per message");
    for prefix in ["unfiled/", "rejected/"] {
        let left = plain.objects().list(prefix).await.expect("list");
        assert!(left.is_empty(), "{prefix} holds {left:?}");
    }

    // Handoffs against Dynamics with faults.
    let emu = Emulator::start(dataverse_emulator::Config::default())
        .await
        .expect("emulator");
    emu.set_chaos(Some(Chaos {
        fraction: plan.fault_fraction,
        kinds: vec![
            (4, ChaosKind::Throttle { retry_after: 1 }),
            (4, ChaosKind::Unavailable),
            (2, ChaosKind::Slow(Duration::from_millis(300))),
            (1, ChaosKind::LostResponse),
        ],
        path_contains: None,
        seed: plan.seed ^ 0x5eed,
    }));
    let crm = DataverseClient::new(
        Credentials::from_json(&emu.credentials_json()).expect("credentials"),
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_secs(1),
        },
    )
    .expect("client");
    let counted = CountingObjectStore::new(S3ObjectStore::new(s3.clone(), &bucket, None));
    let handoff_counts = counted.counts.clone();
    let hdeps = Arc::new(Ok::<_, String>(app::requests::Worker::new(
        Sessions::new(counted),
        crm,
        &Settings {
            queue_id: Some(emu.seeds().queue_id),
            ..Settings::default()
        },
        app::reply::StoreOutbox::new(MemoryObjectStore::default()),
        app::reply::ReplySettings::default(),
    )));
    let classes = ["Billing", "Support", "Returns", "Delivery"];
    let request = |i: usize, sid: &str| {
        json!({
            "session_id": sid,
            "classification": classes[i % classes.len()],
            "sentiment": if i.is_multiple_of(2) { "negative" } else { "neutral" },
            "summary": format!("Soak handoff {i}"),
            "handoff_id": format!("soak-{i}"),
        })
    };
    let sids: Vec<String> = all.iter().map(|s| s.id.clone()).collect();
    // Modes: 0 SQS then SQS later; 1 SQS and direct at once; 2 direct and direct at once;
    // 3 direct then SQS later.
    let mut first_wave: Vec<Unit> = Vec::new();
    let mut sqs_first: Vec<(String, Value)> = Vec::new();
    let mut sqs_later: Vec<(String, Value)> = Vec::new();
    let mut invocations = 0usize;
    for (i, sid) in sids.iter().enumerate() {
        let req = request(i, sid);
        let rec = |n: u32| (format!("sqs-{i}-{n}"), req.clone());
        invocations += 2;
        match i % 4 {
            0 => {
                sqs_first.push(rec(1));
                sqs_later.push(rec(2));
            }
            1 => first_wave.push(Unit::Pair(
                Box::new(Unit::Batch(vec![rec(1)])),
                Box::new(Unit::Direct(req.clone())),
            )),
            2 => first_wave.push(Unit::Pair(
                Box::new(Unit::Direct(req.clone())),
                Box::new(Unit::Direct(req.clone())),
            )),
            _ => {
                first_wave.push(Unit::Direct(req.clone()));
                sqs_later.push(rec(2));
            }
        }
    }
    report.handoff_invocations = invocations;
    rng.shuffle(&mut sqs_first);
    rng.shuffle(&mut sqs_later);
    first_wave.extend(sqs_first.chunks(5).map(|c| Unit::Batch(c.to_vec())));
    rng.shuffle(&mut first_wave);
    let second_wave: Vec<Unit> = sqs_later
        .chunks(5)
        .map(|c| Unit::Batch(c.to_vec()))
        .collect();
    let stats = Arc::new(HandoffStats::default());
    let hsem = Arc::new(Semaphore::new(plan.handoff_concurrency));
    let handoff_started = Instant::now();
    for wave in [first_wave, second_wave] {
        let mut set = JoinSet::new();
        for unit in wave {
            let (hdeps, stats, hsem) = (hdeps.clone(), stats.clone(), hsem.clone());
            set.spawn(async move {
                let _p = hsem.acquire().await.expect("semaphore");
                run_unit(&hdeps, &stats, unit).await;
            });
        }
        while let Some(r) = set.join_next().await {
            r.expect("join");
        }
    }
    report.handoff_secs = handoff_started.elapsed().as_secs_f64();
    report.handoff_s3 = handoff_counts.total();
    report.dynamics_client_requests = hdeps
        .as_ref()
        .as_ref()
        .map(|w| w.crm.requests())
        .unwrap_or(0);
    report.dynamics_retries = hdeps
        .as_ref()
        .as_ref()
        .map(|w| w.crm.retries())
        .unwrap_or(0);
    report.dynamics_emulator_requests = emu.request_count();
    report.dynamics_by_kind = emu.request_counts();
    report.faults = emu.chaos_counts();
    report.sqs_redeliveries = stats.sqs_redeliveries.load(Ordering::Relaxed);
    report.direct_retries = stats.direct_retries.load(Ordering::Relaxed);
    emu.set_chaos(None);

    // Handoff checks.
    let dead = stats.dead_letters.lock().expect("lock").clone();
    assert!(dead.is_empty(), "handoffs failed for good: {dead:#?}");
    let incidents = emu.records("incidents");
    let contacts = emu.records("contacts");
    let queue_items = emu.records("queueitems");
    report.incidents = incidents.len();
    report.contacts = contacts.len();
    report.queue_items = queue_items.len();
    let field = |r: &serde_json::Map<String, Value>, k: &str| {
        r.get(k).and_then(Value::as_str).unwrap_or("").to_string()
    };
    let tickets: BTreeMap<String, (String, String)> = incidents
        .iter()
        .map(|r| {
            (
                field(r, "incidentid"),
                (field(r, "ticketnumber"), field(r, "_customerid_value")),
            )
        })
        .collect();
    let contact_email: BTreeMap<String, String> = contacts
        .iter()
        .map(|r| (field(r, "contactid"), field(r, "emailaddress1")))
        .collect();
    let emails: BTreeSet<String> = contact_email.values().map(|e| e.to_lowercase()).collect();
    assert_eq!(emails, distinct, "one contact per distinct sender");
    assert_eq!(
        contacts.len(),
        distinct.len(),
        "contacts == distinct senders"
    );
    assert_eq!(incidents.len(), plan.threads, "one incident per session");
    let queued: BTreeMap<String, String> = queue_items
        .iter()
        .map(|r| (field(r, "_objectid_value"), field(r, "_queueid_value")))
        .collect();
    assert_eq!(
        queue_items.len(),
        incidents.len(),
        "one queue item per case"
    );
    for id in tickets.keys() {
        assert_eq!(
            queued.get(id).map(String::as_str),
            Some(emu.seeds().queue_id.to_string().as_str()),
            "case {id} is in the support queue"
        );
    }
    let mut seen = BTreeSet::new();
    for s in plain.list().await.expect("list sessions") {
        assert_eq!(
            s.state,
            SessionState::HandedOff,
            "session {} handed off",
            s.id
        );
        let h = s
            .handoff
            .as_ref()
            .unwrap_or_else(|| panic!("session {} has no handoff record", s.id));
        let (ticket, customer) = tickets.get(&h.dynamics365_incident_id).unwrap_or_else(|| {
            panic!(
                "session {}: incident {} missing",
                s.id, h.dynamics365_incident_id
            )
        });
        assert_eq!(
            *ticket, h.dynamics365_ticket_number,
            "session {} ticket",
            s.id
        );
        assert!(
            seen.insert(h.dynamics365_incident_id.clone()),
            "incident {} shared by two sessions",
            h.dynamics365_incident_id
        );
        let t = thread_of_session[&s.id];
        assert_eq!(
            contact_email.get(customer).map(|e| e.to_lowercase()),
            Some(corpus.senders[t].clone()),
            "session {}: the case's customer is the sender's contact",
            s.id
        );
        assert!(s.pending_followups.is_empty(), "session {} pending", s.id);
    }
    for out in stats.outcomes.lock().expect("lock").iter() {
        let iid = out["incident_id"].as_str().expect("incident id");
        assert!(
            tickets.contains_key(iid),
            "a direct invocation returned {out}"
        );
    }

    // Bounds: requests per unit of work.
    let per_handoff = report.dynamics_client_requests as f64 / plan.threads as f64;
    assert!(
        per_handoff < 16.0,
        "{per_handoff:.1} Dynamics requests per handoff (two invocations each, with faults)"
    );
    let per_event = report.ingest_s3.3 as f64 / report.deliveries as f64;
    assert!(per_event < 25.0, "{per_event:.1} S3 requests per SES event");

    report.total_secs = started.elapsed().as_secs_f64();
    drop(emu);
    moto.stop();
    report
}
