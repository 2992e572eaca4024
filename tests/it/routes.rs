//! Cases without an agent, end to end: the ingest Lambda files mail from moto S3, queues policy
//! handoffs on moto SQS and announces events on a moto EventBridge bus (a rule forwards them to
//! an SQS queue, as an integration would subscribe); the handoff Lambda's request path drains
//! the queue into the Dataverse emulator.

use std::time::Duration;

use app::handoff::Settings;
use app::requests::Worker;
use app::routing::{Policy, Routing};
use dataverse_emulator::Emulator;
use dynamics::Owner;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Map, Value, json};
use store::S3ObjectStore;
use testkit::MotoServer;
use uuid::Uuid;

use crate::support::Mail;
use crate::world::{World, acme_config, no_settings, retries, text};

const BILLING_QUEUE: &str = "b111111b-0000-4000-8000-00000000b111";

/// The world with the routing document, a moto SQS handoff queue and the ingest Lambda's
/// dependencies on it.
struct Routed {
    world: World,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    ingest: ingest::handler::Deps<S3ObjectStore>,
    aws: aws_config::SdkConfig,
}

impl std::ops::Deref for Routed {
    type Target = World;
    fn deref(&self) -> &World {
        &self.world
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> String {
    sqs.create_queue()
        .queue_name(format!("{name}-{}", std::process::id()))
        .send()
        .await
        .expect("create queue")
        .queue_url()
        .unwrap_or_default()
        .to_string()
}

fn routing_doc(emu: &Emulator, star_policy: &str) -> String {
    let seeds = emu.seeds();
    format!(
        r#"{{"routes": [
             {{"address": "billing@acme.com", "queue_id": "{BILLING_QUEUE}", "priority": 1,
               "ticket_properties": {{"casetypecode": 3}}, "classification": "Billing", "policy": "immediate"}},
             {{"address": "*", "queue_id": "{q}", "owner_id": "teams({t})", "policy": "{star_policy}"}}],
            "rules": [{{"name": "refunds", "when": {{"subject": "(?i)refund|chargeback"}},
                        "set": {{"classification": "Refund", "priority": 1}}}}]}}"#,
        q = seeds.queue_id,
        t = seeds.team_id
    )
}

async fn world(prefix: &str, star_policy: &str, events: Box<dyn app::ports::EventSink>) -> Routed {
    let mut world = World::builder()
        .retry(retries(6, 20, 1000))
        .settings(no_settings)
        .config(acme_config())
        .start(prefix)
        .await;
    world.emu.seed(
        "queues",
        Uuid::parse_str(BILLING_QUEUE).expect("guid"),
        json!({"name": "Billing Queue"}),
    );
    let aws = MotoServer::shared().sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let queue_url = queue(&sqs, &format!("{prefix}-handoff")).await;
    world.config.routing = Routing::parse(
        &routing_doc(&world.emu, star_policy),
        &Settings::default(),
        Policy::Manual,
    )
    .expect("routing");
    let mut ingest = world.ingest_deps();
    ingest.queue = Some(Box::new(adapters::SqsQueue {
        sqs: sqs.clone(),
        url: queue_url.clone(),
    }));
    ingest.events = events;
    Routed {
        world,
        sqs,
        queue_url,
        ingest,
        aws,
    }
}

impl Routed {
    /// The handoff Lambda's worker with the routing, the queue and `events`.
    fn worker(
        &self,
        events: Box<dyn app::ports::EventSink>,
    ) -> Worker<S3ObjectStore, app::reply::StoreOutbox<store::MemoryObjectStore>> {
        let mut w = self.world.worker();
        w.routing = self.ingest.config.routing.clone();
        w.queue = Some(Box::new(adapters::SqsQueue {
            sqs: self.sqs.clone(),
            url: self.queue_url.clone(),
        }));
        w.events = events;
        w
    }

    /// Store the raw mail and deliver its SES event to the ingest Lambda's handler.
    async fn deliver(&self, ses_id: &str, mail: &Mail<'_>) -> Value {
        let _ = self.put_raw(ses_id, mail).await;
        self.event(ses_id).await
    }

    async fn event(&self, ses_id: &str) -> Value {
        let at = mail::rfc3339_utc(now());
        let event = json!({"Records": [{"eventSource": "aws:ses", "eventVersion": "1.0", "ses": {
            "mail": {"messageId": ses_id, "timestamp": at, "source": "x@client.example"},
            "receipt": {"timestamp": at, "recipients": ["inbound@mail.acme.com"],
                        "spamVerdict": {"status": "PASS"}, "virusVerdict": {"status": "PASS"}}}}]});
        ingest::handler::handle(&self.ingest, LambdaEvent::new(event, Context::default()))
            .await
            .expect("ingest handled")
    }

    /// Drain the handoff queue through the handoff Lambda's request path.
    async fn drain(
        &self,
        worker: &Worker<S3ObjectStore, app::reply::StoreOutbox<store::MemoryObjectStore>>,
        wait: Option<Duration>,
    ) -> adapters::Drained {
        let q = adapters::SqsQueue {
            sqs: self.sqs.clone(),
            url: self.queue_url.clone(),
        };
        adapters::drain(&q, wait, |_, body| async move {
            match handoff::handler::one(worker, &body).await {
                Ok(_) => true,
                Err(f) => {
                    eprintln!("request failed: {f}");
                    false
                }
            }
        })
        .await
        .expect("drain")
    }

    fn incidents(&self) -> Vec<Map<String, Value>> {
        self.emu.records("incidents")
    }
}

/// A bus whose rule forwards every mailcase event to an SQS queue (moto).
async fn bus_with_listener(aws: &aws_config::SdkConfig, name: &str) -> (String, String) {
    let eb = aws_sdk_eventbridge::Client::new(aws);
    let bus = format!("{name}-{}", std::process::id());
    eb.create_event_bus().name(&bus).send().await.expect("bus");
    let sqs = aws_sdk_sqs::Client::new(aws);
    let url = queue(&sqs, &format!("{name}-listener")).await;
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("attrs")
        .attributes()
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("arn");
    eb.put_rule()
        .name(format!("{bus}-all"))
        .event_bus_name(&bus)
        .event_pattern(r#"{"source": ["mailcase"]}"#)
        .send()
        .await
        .expect("rule");
    eb.put_targets()
        .rule(format!("{bus}-all"))
        .event_bus_name(&bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("listener")
                .arn(arn)
                .build()
                .expect("target"),
        )
        .send()
        .await
        .expect("targets");
    (bus, url)
}

/// Every event the listener queue received: (detail-type, detail), deduplicated on event_id.
async fn received(aws: &aws_config::SdkConfig, url: &str) -> Vec<(String, Value)> {
    let sqs = aws_sdk_sqs::Client::new(aws);
    let mut out: Vec<(String, Value)> = Vec::new();
    for _ in 0..5 {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("receive");
        let msgs = got.messages.unwrap_or_default();
        if msgs.is_empty() {
            break;
        }
        for m in msgs {
            let v: Value = serde_json::from_str(m.body().unwrap_or("{}")).expect("event JSON");
            let dt = v["detail-type"].as_str().unwrap_or("").to_string();
            assert_eq!(v["source"], "mailcase");
            let detail = v["detail"].clone();
            if !out.iter().any(|(_, d)| d["event_id"] == detail["event_id"]) {
                out.push((dt, detail));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn immediate_policy_routes_and_rules_make_one_case_per_thread_with_events() {
    let moto = MotoServer::shared();
    let aws = moto.sdk_config().await;
    let (bus, listener) = bus_with_listener(&aws, "routes-bus").await;
    let w = world(
        "routes-imm",
        "immediate",
        Box::new(adapters::EventBridgeSink::new(&aws, &bus)),
    )
    .await;
    let worker = w.worker(Box::new(adapters::EventBridgeSink::new(&aws, &bus)));

    // Billing: a new thread whose SES event arrives twice, and a reply ingested at the same time.
    let parent = Mail {
        to: "Acme Billing <billing@acme.com>",
        subject: "Invoice 77 charged twice",
        message_id: "bill-1@client.example",
        body: "Hello, my card was charged twice for invoice 77.",
        ..Mail::default()
    };
    let reply = Mail {
        to: "billing@acme.com",
        subject: "Re: Invoice 77 charged twice",
        message_id: "bill-2@client.example",
        in_reply_to: Some("bill-1@client.example"),
        references: &["bill-1@client.example"],
        date: "Tue, 12 Mar 2024 10:16:00 +0000",
        body: "Here is the statement.",
        ..Mail::default()
    };
    let (a, b, c) = tokio::join!(
        w.deliver("ses-bill-1", &parent),
        w.deliver("ses-bill-2", &reply),
        w.deliver("ses-bill-1", &parent)
    );
    for out in [&a, &b, &c] {
        assert_eq!(out["outcomes"][0]["disposition"], "customer", "{out}");
    }
    // An address with no route takes `*`; the subject rule sets the classification.
    let other = Mail {
        from: "Bo Chen <bo@other.example>",
        to: "help@acme.com",
        subject: "Printer offline",
        message_id: "other-1@other.example",
        body: "The printer is offline since Monday.",
        ..Mail::default()
    };
    let refund = Mail {
        from: "Cy Diaz <cy@third.example>",
        subject: "Refund for order 9",
        message_id: "refund-1@third.example",
        body: "I would like a refund for order 9.",
        ..Mail::default()
    };
    w.deliver("ses-other-1", &other).await;
    w.deliver("ses-refund-1", &refund).await;
    // Automatic mail never triggers a handoff.
    let ooo = Mail {
        from: "Dee <dee@fourth.example>",
        subject: "Out of office",
        message_id: "ooo-1@fourth.example",
        extra_headers: "Auto-Submitted: auto-replied\r\n",
        body: "I am away.",
        ..Mail::default()
    };
    let ooo_out = w.deliver("ses-ooo-1", &ooo).await;
    assert_eq!(ooo_out["outcomes"][0]["disposition"], "auto_reply");

    let drained = w.drain(&worker, None).await;
    assert_eq!(drained.failed, 0, "{drained:?}");
    // Redeliveries and races made extra notices; they all land on one case per thread.
    assert!(drained.done >= 3, "{drained:?}");
    let incidents = w.incidents();
    assert_eq!(incidents.len(), 3, "one case per thread: {incidents:#?}");
    let by_title = |prefix: &str| {
        incidents
            .iter()
            .find(|i| text(i, "title").starts_with(prefix))
            .cloned()
            .unwrap_or_else(|| panic!("no case titled {prefix}…: {incidents:#?}"))
    };
    let billing = by_title("Billing - Ana Lima");
    assert_eq!(billing["prioritycode"], 1);
    assert_eq!(billing["casetypecode"], 3);
    let desc = text(&billing, "description");
    assert!(
        desc.contains("my card was charged twice") && desc.contains("Here is the statement"),
        "{desc}"
    );
    let queue_of = |id: &str| {
        w.emu
            .records("queueitems")
            .into_iter()
            .find(|q| text(q, "_objectid_value") == id)
            .map(|q| text(&q, "_queueid_value"))
            .unwrap_or_default()
    };
    assert_eq!(queue_of(&text(&billing, "incidentid")), BILLING_QUEUE);
    let support = by_title("Support - Bo Chen");
    assert_eq!(support["prioritycode"], 2);
    assert_eq!(
        queue_of(&text(&support, "incidentid")),
        w.emu.seeds().queue_id.to_string()
    );
    assert_eq!(
        text(&support, "_ownerid_value"),
        w.emu.seeds().team_id.to_string()
    );
    let refund_case = by_title("Refund - Cy Diaz");
    assert_eq!(refund_case["prioritycode"], 1);

    // Draining again finds nothing new; a second pass of notices changes nothing.
    w.deliver("ses-bill-1", &parent).await;
    w.drain(&worker, None).await;
    assert_eq!(w.incidents().len(), 3);

    // The listener got Session Created, Message Filed, Mail Not Filed and Case Created.
    let events = received(&aws, &listener).await;
    let of = |t: &str| {
        events
            .iter()
            .filter(|(dt, _)| dt == t)
            .map(|(_, d)| d.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(of("Session Created").len(), 3, "{events:#?}");
    assert_eq!(of("Message Filed").len(), 4, "{events:#?}");
    assert_eq!(of("Mail Not Filed").len(), 1, "{events:#?}");
    let cases = of("Case Created");
    assert_eq!(cases.len(), 3, "{events:#?}");
    for c in &cases {
        assert!(
            c["ticket_number"]
                .as_str()
                .unwrap_or("")
                .starts_with("CAS-"),
            "{c}"
        );
        assert_eq!(c["automatic"], true);
    }
    let billing_created = of("Session Created")
        .into_iter()
        .find(|d| d["route"] == "billing@acme.com")
        .expect("billing session event");
    assert_eq!(billing_created["customer"]["email"], "ana@client.example");
    // No bodies on the bus.
    for (_, d) in &events {
        assert!(!d.to_string().contains("charged twice for invoice"), "{d}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quiet_policy_makes_one_case_of_a_burst_and_later_mail_a_follow_up() {
    let w = world("routes-quiet", "quiet:2s", Box::new(app::ports::NoEvents)).await;
    let worker = w.worker(Box::new(app::ports::NoEvents));
    let first = Mail {
        from: "Eva Roth <eva@client.example>",
        subject: "Login broken",
        message_id: "q-1@client.example",
        body: "I cannot log in since this morning.",
        ..Mail::default()
    };
    w.deliver("ses-q-1", &first).await;
    for (i, body) in [
        "Forgot the screenshot, here it is.",
        "And the error code is E42.",
    ]
    .iter()
    .enumerate()
    {
        let id = format!("q-{}@client.example", i + 2);
        let m = Mail {
            from: "Eva Roth <eva@client.example>",
            subject: "Re: Login broken",
            message_id: &id,
            in_reply_to: Some("q-1@client.example"),
            references: &["q-1@client.example"],
            body,
            ..Mail::default()
        };
        w.deliver(&format!("ses-q-{}", i + 2), &m).await;
    }
    // Nothing is due yet: the quiet period has not passed.
    let early = w.drain(&worker, None).await;
    assert_eq!(early.done, 0, "{early:?}");
    assert!(w.incidents().is_empty());
    let settled = w.drain(&worker, Some(Duration::from_secs(20))).await;
    assert_eq!(settled.failed, 0);
    let incidents = w.incidents();
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let desc = text(&incidents[0], "description");
    for part in [
        "cannot log in",
        "Forgot the screenshot",
        "error code is E42",
    ] {
        assert!(desc.contains(part), "{part} missing: {desc}");
    }
    assert!(desc.contains("Transcript (3 messages)"), "{desc}");
    // Mail after the case exists is a follow-up note, not a second case.
    let later = Mail {
        from: "Eva Roth <eva@client.example>",
        subject: "Re: Login broken",
        message_id: "q-9@client.example",
        in_reply_to: Some("q-3@client.example"),
        references: &["q-1@client.example", "q-3@client.example"],
        body: "It works again after the reset, thanks.",
        ..Mail::default()
    };
    let out = w.deliver("ses-q-9", &later).await;
    assert_eq!(out["outcomes"][0]["followup"], true, "{out}");
    w.drain(&worker, Some(Duration::from_secs(5))).await;
    assert_eq!(w.incidents().len(), 1);
    let notes: Vec<_> = w
        .emu
        .records("annotations")
        .into_iter()
        .filter(|n| text(n, "notetext").contains("works again after the reset"))
        .collect();
    assert_eq!(notes.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_event_bus_or_comprehend_still_files_the_mail_and_creates_the_case() {
    // Both services unreachable (a closed port): every publish and detection fails.
    let moto = MotoServer::shared();
    let dead = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://127.0.0.1:9")
        .http_client(adapters::https_client())
        .credentials_provider(aws_sdk_sqs::config::SharedCredentialsProvider::new(
            aws_sdk_sqs::config::Credentials::new("test", "test", None, None, "test"),
        ))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let _ = moto;
    let w = world(
        "routes-fail",
        "immediate",
        Box::new(adapters::EventBridgeSink::new(&dead, "gone")),
    )
    .await;
    let mut worker = w.worker(Box::new(adapters::EventBridgeSink::new(&dead, "gone")));
    worker.sentiment = Some(Box::new(adapters::ComprehendSentiment::new(&dead)));
    let out = w
        .deliver(
            "ses-f-1",
            &Mail {
                message_id: "f-1@client.example",
                body: "Everything is broken and I am very unhappy about it.",
                ..Mail::default()
            },
        )
        .await;
    assert_eq!(out["outcomes"][0]["new_session"], true, "{out}");
    let drained = w.drain(&worker, None).await;
    assert_eq!((drained.done, drained.failed), (1, 0));
    let incidents = w.incidents();
    assert_eq!(incidents.len(), 1);
    assert!(!text(&incidents[0], "description").contains("Sentiment:"));
    let _ = &w.aws;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_routing_document_fails_every_invocation_loudly() {
    let bad = [
        (
            r#"{"routes": [{"address": "billing@acme.com", "queue": "x"}]}"#,
            "routes[0]",
        ),
        (
            r#"{"rules": [{"when": {"subject": "(oops"}, "set": {}}]}"#,
            "rules[0].when.subject",
        ),
        (
            r#"{"routes": [{"address": "*", "policy": "quiet:5x"}]}"#,
            "routes[0].policy",
        ),
        (r#"{"routes": ["#, "line 1"),
    ];
    for (doc, place) in bad {
        let err =
            adapters::routing_from_env(None, |k: &str| (k == "ROUTING").then(|| doc.to_string()))
                .await
                .expect_err(doc);
        assert!(err.contains(place), "{doc}: {err}");
    }
    let err = adapters::routing_from_env(None, |k: &str| {
        (k == "HANDOFF_POLICY").then(|| "sometimes".to_string())
    })
    .await
    .expect_err("bad policy");
    assert!(err.contains("HANDOFF_POLICY"), "{err}");
    // The ingest Lambda with a refused configuration files nothing and fails the invocation.
    let mut w = world("routes-refused", "manual", Box::new(app::ports::NoEvents)).await;
    w.ingest.refused = Some("routing document, routes[0]: unknown field `queue`".into());
    let _ = w.put_raw("ses-r-1", Mail::default()).await;
    let event =
        json!({"Records": [{"eventSource": "aws:ses", "ses": {"mail": {"messageId": "ses-r-1"}}}]});
    let e = ingest::handler::handle(&w.ingest, LambdaEvent::new(event, Context::default()))
        .await
        .expect_err("refused");
    assert!(
        e.error_message.contains("unknown field"),
        "{}",
        e.error_message
    );
    assert!(w.sessions.list().await.expect("list").is_empty());
    // And the handoff function's handler, built from a refused configuration.
    let deps: handoff::handler::Deps<
        S3ObjectStore,
        app::reply::StoreOutbox<store::MemoryObjectStore>,
    > = Err("routing document, rules[0].when.subject: bad".into());
    let e = handoff::handler::handle(
        &deps,
        LambdaEvent::new(json!({"session_id": "mc-1"}), Context::default()),
    )
    .await
    .expect_err("refused");
    assert_eq!(e.error_type, "Configuration");
    let _ = Owner::parse("");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flooding_sender_gets_at_most_one_case_and_one_acknowledgement() {
    let w = world("routes-flood", "immediate", Box::new(app::ports::NoEvents)).await;
    let mut worker = w.worker(Box::new(app::ports::NoEvents));
    worker.reply = app::reply::ReplySettings {
        support: Some(mail::Mailbox {
            name: None,
            address: "support@acme.com".into(),
        }),
        ack: true,
        ack_template: None,
        cc: true,
    };
    // A broken autoresponder without RFC 3834 headers: 30 mails in a minute, new subjects,
    // the same text.
    for i in 0..30 {
        let subject = format!("Ticket #{i} received");
        let id = format!("bot-{i}@bot.example");
        let out = w
            .deliver(
                &format!("ses-bot-{i}"),
                &Mail {
                    from: "Helpdesk Bot <bot@bot.example>",
                    subject: &subject,
                    message_id: &id,
                    body: "Thank you for contacting us. Your message has been received.",
                    ..Mail::default()
                },
            )
            .await;
        assert_eq!(out["outcomes"][0]["disposition"], "customer", "{out}");
        assert_eq!(
            out["outcomes"][0]["flood"].as_bool().unwrap_or(false),
            i >= 2,
            "{i}: {out}"
        );
    }
    let drained = w.drain(&worker, None).await;
    assert_eq!(drained.failed, 0);
    let incidents = w.incidents();
    assert!(incidents.len() <= 1, "{} cases", incidents.len());
    let acks: usize = w
        .sessions
        .list()
        .await
        .expect("list")
        .iter()
        .map(|s| {
            s.messages
                .iter()
                .filter(|m| m.direction == store::session::Direction::Outbound)
                .count()
        })
        .sum();
    assert!(acks <= 1, "{acks} acknowledgements");
    // Every mail is still stored; a manual handoff still works.
    let sessions = w.sessions.list().await.expect("list");
    assert_eq!(sessions.len(), 30);
    let flooded = sessions.iter().find(|s| s.flood).expect("a flood session");
    worker
        .handle(
            &app::handoff::Request {
                session_id: flooded.id.clone(),
                ..Default::default()
            },
            now(),
        )
        .await
        .expect("manual handoff");
    assert_eq!(w.incidents().len(), incidents.len() + 1);
}
