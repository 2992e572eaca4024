//! Threads that stay right (moto S3, the Dataverse emulator): sender-bound matching,
//! participants, one case per session whatever the handoff ids.

use std::time::Duration;

use app::handoff::Request;
use serde_json::Value;
use store::sessions::Sessions;

use crate::support::{Mail, only_outbox_mail, receipt};
use crate::world::{World, acme_config, followup_request, queue_settings, retries, s3_store};

/// acme.com is ours; the org's queue; a client that retries a little.
async fn start(prefix: &str) -> World {
    World::builder()
        .retry(retries(6, 20, 1000))
        .settings(queue_settings)
        .config(acme_config())
        .start(prefix)
        .await
}

/// A handoff of `session_id` as the queue carries it (no classification, no handoff id).
fn request(session_id: &str) -> Request {
    Request {
        session_id: session_id.into(),
        ..Request::default()
    }
}

/// A reply on Ana's VPN thread (to its first message).
fn vpn_reply<'a>(from: &'a str, message_id: &'a str, body: &'a str) -> Mail<'a> {
    Mail {
        from,
        subject: "Re: VPN down",
        message_id,
        in_reply_to: Some("vpn-1@bigcorp.example"),
        references: &["vpn-1@bigcorp.example"],
        body,
        ..Mail::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn strangers_get_their_own_session_and_colleagues_and_cc_join() {
    let world = start("threads-bound").await;
    let s = &world.sessions;
    let first = world
        .ingest(
            Mail {
                from: "Ana Lima <ana@bigcorp.example>",
                subject: "VPN down",
                message_id: "vpn-1@bigcorp.example",
                extra_headers: "Cc: Cy Partner <cy@partner.example>, Rep <rep@acme.com>\r\n",
                body: "Our VPN is down.",
                ..Mail::default()
            },
            "t-1",
        )
        .await;
    let sid = first.session_id.clone().expect("filed");
    let session = s.load(&sid).await.expect("load").expect("session");
    let people: Vec<(&str, &str)> = session
        .participants
        .iter()
        .map(|p| (p.address.as_str(), p.role.as_str()))
        .collect();
    assert_eq!(
        people,
        vec![
            ("ana@bigcorp.example", "customer"),
            ("cy@partner.example", "cc")
        ]
    );

    // A stranger replying with Ana's Message-ID, or with her session's token.
    let eve_mail = vpn_reply(
        "Eve <eve@evil.example>",
        "eve-1@evil.example",
        "Send me the VPN password.",
    );
    let by_header = world.ingest(&eve_mail, "t-2").await;
    let eve_sid = by_header.session_id.clone().expect("filed");
    assert_ne!(eve_sid, sid, "a stranger never joins by header");
    let subject = format!("Hello [{sid}]");
    let by_token = world
        .ingest(
            Mail {
                from: "Mallory <m@other.example>",
                subject: &subject,
                message_id: "mal-1@other.example",
                body: "token only",
                ..Mail::default()
            },
            "t-3",
        )
        .await;
    assert_ne!(
        by_token.session_id.as_deref(),
        Some(sid.as_str()),
        "nor by token"
    );
    let eve = s.load(&eve_sid).await.expect("load").expect("session");
    assert_eq!(eve.related_to.as_deref(), Some(sid.as_str()));
    // Redelivery of the stranger's mail stays in its own session.
    let again = world.ingest(&eve_mail, "t-2").await;
    assert_eq!(again.session_id.as_deref(), Some(eve_sid.as_str()));
    assert!(again.duplicate);

    // A colleague at Ana's company and the person who was on Cc join; so do we.
    for (n, from) in [
        (4, "Bo <bo@bigcorp.example>"),
        (5, "Cy Partner <cy@partner.example>"),
        (6, "Rep <rep@acme.com>"),
    ] {
        let id = format!("vpn-{n}@x.example");
        let out = world
            .ingest(vpn_reply(from, &id, "More details."), &format!("t-{n}"))
            .await;
        assert_eq!(out.session_id.as_deref(), Some(sid.as_str()), "{from}");
    }
    let session = s.load(&sid).await.expect("load").expect("session");
    assert_eq!(session.messages.len(), 4);
    assert!(session.has_participant("bo@bigcorp.example"));
    assert!(
        !session.has_participant("rep@acme.com"),
        "our own people are not participants"
    );

    // A stranger at gmail.com does not join a gmail.com customer's thread.
    let g = world
        .ingest(
            Mail {
                from: "Gail <gail@gmail.com>",
                subject: "Printer",
                message_id: "g-1@mail.gmail.com",
                body: "Printer jammed.",
                ..Mail::default()
            },
            "g-1",
        )
        .await;
    let g2 = world
        .ingest(
            Mail {
                from: "Stranger <stranger@gmail.com>",
                subject: "Re: Printer",
                message_id: "g-2@mail.gmail.com",
                in_reply_to: Some("g-1@mail.gmail.com"),
                body: "me too",
                ..Mail::default()
            },
            "g-2",
        )
        .await;
    assert_ne!(g.session_id, g2.session_id);

    // The stranger's case says what it pointed at, and lists the participants.
    let emu = &world.emu;
    let w = world.worker();
    w.handle(&request(&eve_sid), 0).await.expect("handoff");
    w.handle(&request(&sid), 0).await.expect("handoff");
    let incidents = emu.records("incidents");
    let desc = |name: &str| {
        incidents
            .iter()
            .map(|i| i["description"].as_str().unwrap_or("").to_string())
            .find(|d| d.contains(name))
            .unwrap_or_default()
    };
    assert!(
        desc("Eve").contains(&format!("Possibly related to: {sid}")),
        "{}",
        desc("Eve")
    );
    assert!(desc("ana@bigcorp.example").contains("Participants: Ana Lima <ana@bigcorp.example> (customer), Cy Partner <cy@partner.example> (cc), Bo <bo@bigcorp.example> (from)"), "{}", desc("ana@bigcorp.example"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_handoffs_with_different_ids_make_one_case() {
    let world = start("threads-one-case").await;
    let s = &world.sessions;
    let sid = world
        .ingest_file(
            Mail {
                message_id: "one-1@client.example",
                ..Mail::default()
            },
            "o-1",
        )
        .await;
    let emu = &world.emu;
    let w = world.worker();
    let reqs: Vec<Request> = ["agent-7", "person-1", "auto"]
        .iter()
        .map(|h| Request {
            handoff_id: Some(h.to_string()),
            ..request(&sid)
        })
        .collect();
    let (a, b, c) = tokio::join!(
        w.handle(&reqs[0], 0),
        w.handle(&reqs[1], 0),
        w.handle(&reqs[2], 0)
    );
    let ids: Vec<Value> = [a, b, c]
        .into_iter()
        .map(|r| r.expect("handoff")["incident_id"].clone())
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    assert_eq!(emu.records("incidents").len(), 1);
    let session = s.load(&sid).await.expect("load").expect("session");
    assert_eq!(
        session.handoff.map(|h| h.dynamics365_incident_id),
        ids[0].as_str().map(str::to_string)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_go_to_the_customer_and_cc_the_other_participants_unless_reply_cc_is_off() {
    let world = start("threads-cc").await;
    let s = &world.sessions;
    let sid = world
        .ingest_file(
            Mail {
                from: "Ana Lima <ana@bigcorp.example>",
                message_id: "cc-1@bigcorp.example",
                extra_headers: "Cc: Cy Partner <cy@partner.example>, Rep <rep@acme.com>\r\n",
                ..Mail::default()
            },
            "c-1",
        )
        .await;
    for (cc, key) in [(true, "on"), (false, "off")] {
        let outbox = store::MemoryObjectStore::default();
        let settings = app::reply::ReplySettings::from_lookup(
            |k| match k {
                "SUPPORT_ADDRESS" => Some("support@acme.com".into()),
                "REPLY_CC" => Some(cc.to_string()),
                _ => None,
            },
            false,
        )
        .expect("settings");
        app::reply::send(
            s,
            &app::reply::StoreOutbox::new(outbox.clone()),
            &settings,
            &app::reply::Reply {
                session_id: sid.clone(),
                text: "We are on it.".into(),
                key: format!("reply:{key}"),
                automatic: false,
            },
            0,
        )
        .await
        .expect("sent");
        let raw = only_outbox_mail(&outbox).await;
        let text = String::from_utf8_lossy(&raw);
        assert!(
            text.contains("To: \"Ana Lima\" <ana@bigcorp.example>")
                || text.contains("To: Ana Lima <ana@bigcorp.example>"),
            "{text}"
        );
        assert_eq!(text.contains("cy@partner.example"), cc, "{text}");
        assert!(!text.contains("rep@acme.com"), "{text}");
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mail_to_a_resolved_case_reactivates_it_thanks_only_notes_and_late_mail_opens_a_child_case()
{
    let world = start("threads-reopen").await;
    let emu = &world.emu;
    let mut w = world.worker();
    w.reopen_days = 7;
    let sid = world
        .ingest_file(
            Mail {
                message_id: "re-1@client.example",
                body: "The pump leaks.",
                ..Mail::default()
            },
            "r-1",
        )
        .await;
    let case = w.handle(&request(&sid), now()).await.expect("case");
    let incident = uuid::Uuid::parse_str(case["incident_id"].as_str().expect("id")).expect("uuid");
    let resolve = |days_ago: i64| {
        emu.update(
            "incidents",
            incident,
            serde_json::json!({"statecode": 1, "statuscode": 5, "modifiedon": mail::rfc3339_utc(now() - days_ago * 86_400)}),
        )
    };
    let state = || {
        emu.records("incidents")
            .into_iter()
            .find(|i| i["incidentid"] == incident.to_string())
            .and_then(|i| i["statecode"].as_i64())
    };
    let notes_with = |text: &str| {
        emu.records("annotations")
            .into_iter()
            .filter(|n| n["notetext"].as_str().unwrap_or("").contains(text))
            .count()
    };
    let world = &world;
    let reply = |n: u32, body: &'static str| {
        let id = format!("re-{n}@client.example");
        async move {
            let m = Mail {
                subject: "Re: Order 1042 arrived damaged",
                message_id: &id,
                in_reply_to: Some("re-1@client.example"),
                references: &["re-1@client.example"],
                body,
                ..Mail::default()
            };
            world.ingest(m, &format!("r-{n}")).await
        }
    };
    let followup = followup_request(&sid);

    // Resolved yesterday: the customer says it leaks again -> reactivated, with the note.
    resolve(1);
    assert!(
        reply(2, "It leaks again since this morning.")
            .await
            .followup
    );
    w.handle(&followup, now()).await.expect("follow-up");
    assert_eq!(state(), Some(0), "reactivated");
    assert_eq!(notes_with("leaks again"), 1);

    // Resolved again; "Thank you!" is a note, and the case stays resolved.
    resolve(0);
    assert!(reply(3, "Thank you!").await.followup);
    w.handle(&followup, now()).await.expect("follow-up");
    assert_eq!(state(), Some(1), "thanks does not reopen");
    assert_eq!(notes_with("Thank you!"), 1);

    // Resolved a month ago: new mail starts a new session whose case is the old one's child.
    resolve(30);
    assert!(reply(4, "The new pump leaks too.").await.followup);
    let out = w.handle(&followup, now()).await.expect("follow-up");
    assert_eq!(state(), Some(1));
    let new_sid = out["followups_new_sessions"][0]
        .as_str()
        .expect("new session")
        .to_string();
    let child = w
        .handle(&request(&new_sid), now())
        .await
        .expect("child case");
    let rows = emu.records("incidents");
    let row = rows
        .iter()
        .find(|i| i["incidentid"] == child["incident_id"])
        .expect("child row");
    assert_eq!(row["_parentcaseid_value"], incident.to_string(), "{row:?}");
    assert!(
        row["description"]
            .as_str()
            .unwrap_or("")
            .contains(case["ticket_number"].as_str().unwrap_or("?"))
    );
    assert_eq!(rows.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_handed_off_sessions_of_one_thread_merge_and_the_younger_case_is_noted() {
    let world = start("threads-merge-cases").await;
    let s = &world.sessions;
    let emu = &world.emu;
    let w = world.worker();
    let handoff = |sid: String| {
        let w = &w;
        async move { w.handle(&request(&sid), now()).await.expect("case") }
    };
    // m1 starts A; m3 (a reply to m2, not yet seen, under another subject) starts B; both
    // are handed off. Then m2 arrives: a reply to m1 that m3 answered, so A and B are one thread.
    let a = world
        .ingest_file(
            Mail {
                subject: "Printer jams",
                message_id: "mc-m1@client.example",
                date: "Tue, 12 Mar 2024 10:00:00 +0000",
                body: "The printer jams on every page.",
                ..Mail::default()
            },
            "mc-1",
        )
        .await;
    let b = world
        .ingest_file(
            Mail {
                subject: "Toner order",
                message_id: "mc-m3@client.example",
                in_reply_to: Some("mc-m2@client.example"),
                references: &["mc-m2@client.example"],
                date: "Tue, 12 Mar 2024 12:00:00 +0000",
                body: "And please send toner.",
                ..Mail::default()
            },
            "mc-3",
        )
        .await;
    assert_ne!(a, b);
    let case_a = handoff(a.clone()).await;
    let case_b = handoff(b.clone()).await;
    assert_ne!(case_a["incident_id"], case_b["incident_id"]);
    let out = world
        .ingest(
            Mail {
                subject: "Re: Printer jams",
                message_id: "mc-m2@client.example",
                in_reply_to: Some("mc-m1@client.example"),
                references: &["mc-m1@client.example"],
                date: "Tue, 12 Mar 2024 11:00:00 +0000",
                body: "It jams on page two as well.",
                ..Mail::default()
            },
            "mc-2",
        )
        .await;
    assert_eq!(
        out.session_id.as_deref(),
        Some(a.as_str()),
        "the older keeps the thread"
    );
    assert!(out.followup);
    let merged = s.load(&b).await.expect("load").expect("B");
    assert_eq!(merged.merged_into.as_deref(), Some(a.as_str()));

    let followup = followup_request(&a);
    w.handle(&followup, now()).await.expect("follow-up");
    w.handle(&followup, now()).await.expect("follow-up again");
    let ticket_a = case_a["ticket_number"].as_str().expect("ticket");
    let notes = emu.records("annotations");
    let on = |incident: &Value, text: &str| {
        notes
            .iter()
            .filter(|n| {
                n["_objectid_value"] == *incident
                    && n["notetext"].as_str().unwrap_or("").contains(text)
            })
            .count()
    };
    assert_eq!(
        on(
            &case_b["incident_id"],
            &format!("continues in case {ticket_a}")
        ),
        1,
        "{notes:?}"
    );
    // The thread's mail reached the older case as notes, once each.
    assert_eq!(on(&case_a["incident_id"], "page two"), 1, "{notes:?}");
    assert_eq!(on(&case_a["incident_id"], "send toner"), 1, "{notes:?}");
    let holder = s.load(&a).await.expect("load").expect("A");
    assert!(holder.merged_cases.is_empty());
    assert!(holder.pending_followups.is_empty());
    assert_eq!(emu.records("incidents").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_first_messages_with_the_same_customer_and_subject_at_once_are_one_session() {
    for round in 0..5 {
        let world = start(&format!("threads-subject-{round}")).await;
        let s = &world.sessions;
        let a_id = format!("sa-{round}@client.example");
        let b_id = format!("sb-{round}@client.example");
        let (sa, sb) = (format!("sa-{round}"), format!("sb-{round}"));
        let a_mail = Mail {
            message_id: &a_id,
            subject: "Invoice question",
            body: "First.",
            ..Mail::default()
        };
        let b_mail = Mail {
            message_id: &b_id,
            body: "Second.",
            ..a_mail
        };
        let (a, b) = tokio::join!(world.ingest(a_mail, &sa), world.ingest(b_mail, &sb));
        assert_eq!(a.session_id, b.session_id, "round {round}");
        let all = s.list().await.expect("list");
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].messages.len(), 2);
    }
}

/// A small deterministic generator (xorshift), so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A store that yields to the scheduler a random number of times around every request, so
/// concurrent ingests interleave in many more ways than the memory store alone lets them.
#[derive(Clone)]
struct Jitter<O> {
    inner: O,
    rng: std::sync::Arc<std::sync::Mutex<Rng>>,
}

impl<O> Jitter<O> {
    fn new(inner: O, seed: u64) -> Self {
        Jitter {
            inner,
            rng: std::sync::Arc::new(std::sync::Mutex::new(Rng(seed | 1))),
        }
    }

    async fn pause(&self) {
        let n = self.rng.lock().map(|mut r| r.below(6)).unwrap_or(0);
        for _ in 0..n {
            tokio::task::yield_now().await;
        }
    }

    /// `request` between two pauses.
    async fn paused<T>(&self, request: impl std::future::Future<Output = T>) -> T {
        self.pause().await;
        let r = request.await;
        self.pause().await;
        r
    }
}

impl<O: store::ObjectStore> store::ObjectStore for Jitter<O> {
    async fn get(&self, key: &str) -> Result<Option<store::Object>, store::StoreError> {
        self.paused(self.inner.get(key)).await
    }
    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        condition: store::Condition<'_>,
    ) -> Result<store::Etag, store::StoreError> {
        self.paused(self.inner.put(key, bytes, content_type, condition))
            .await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, store::StoreError> {
        self.inner.list(prefix).await
    }
    async fn delete(&self, key: &str) -> Result<(), store::StoreError> {
        self.pause().await;
        self.inner.delete(key).await
    }
}

/// The Message-IDs of thread `seed`'s `n` messages.
fn thread_ids(seed: u64, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("t{seed}-{i}@client.example"))
        .collect()
}

/// Whether `THREAD_SEED` replays one seed (and its batches are printed).
fn replaying() -> bool {
    std::env::var("THREAD_SEED").is_ok()
}

/// A number from the environment.
fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// One thread of 3-6 messages with mixed header styles, ingested in a random order in random
/// concurrent batches: it must end up as one session.
async fn one_thread<O: store::ObjectStore + Clone + 'static>(
    store: O,
    seed: u64,
    max_batch: usize,
) -> Result<usize, String> {
    let s = Sessions::new(store);
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let n = 3 + rng.below(4);
    let ids = thread_ids(seed, n);
    let root_sid = format!(
        "mc-{}",
        &store::ids::sha256_hex(&String::from(store::MessageKey::of_message_id(&ids[0])))[..16]
    );
    let mut parents = vec![0usize; n];
    let mut styles = vec!["root"; n];
    // A reply by header may change the subject ("Still leaking"): then only its headers tie it
    // to the thread.
    let mut renamed = vec![false; n];
    for i in 1..n {
        parents[i] = rng.below(i);
        styles[i] = ["references", "in-reply-to", "subject", "token"][rng.below(4)];
        renamed[i] = matches!(styles[i], "references" | "in-reply-to") && rng.below(2) == 0;
    }
    let raws: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let mut chain = vec![i];
            while chain[chain.len() - 1] != 0 {
                let last = chain[chain.len() - 1];
                chain.push(parents[last]);
            }
            chain.reverse();
            let mut h = format!(
                "From: Ana Lima <ana@client.example>\r\nTo: support@acme.com\r\nDate: Tue, 12 Mar 2024 10:{:02}:00 +0000\r\nMessage-ID: <{}>\r\n",
                10 + i,
                ids[i]
            );
            let subject = match styles[i] {
                "root" => "Pump broken".to_string(),
                "token" => format!("Re: Pump broken [{root_sid}]"),
                _ if renamed[i] => format!("Still leaking ({i})"),
                _ => "Re: Pump broken".to_string(),
            };
            h.push_str(&format!("Subject: {subject}\r\n"));
            match styles[i] {
                "references" => {
                    let refs: Vec<String> = chain[..chain.len() - 1].iter().map(|j| format!("<{}>", ids[*j])).collect();
                    h.push_str(&format!("In-Reply-To: <{}>\r\nReferences: {}\r\n", ids[parents[i]], refs.join(" ")));
                }
                "in-reply-to" => h.push_str(&format!("In-Reply-To: <{}>\r\n", ids[parents[i]])),
                _ => {}
            }
            h.push_str(&format!("Content-Type: text/plain; charset=utf-8\r\n\r\nmessage {i}\r\n"));
            h.into_bytes()
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    let mut at = 0;
    let mut arrivals: Vec<String> = Vec::new();
    while at < n {
        let size = (1 + rng.below(max_batch)).min(n - at);
        if replaying() {
            eprintln!("batch {:?}", &order[at..at + size]);
        }
        arrivals.push(format!("batch {:?}:", &order[at..at + size]));
        let batch: Vec<usize> = order[at..at + size].to_vec();
        at += size;
        let futs = batch.iter().map(|&i| {
            let s = s.clone();
            let raw = raws[i].clone();
            async move {
                (
                    i,
                    app::ingest::run(
                        &s,
                        &raw,
                        &receipt(&format!("ses-{seed}-{i}")),
                        &acme_config(),
                    )
                    .await,
                )
            }
        });
        for (i, r) in futures_join_all(futs).await {
            let o = r.map_err(|e| format!("ingest failed: {e}"))?;
            arrivals.push(format!(
                "{i}->{}{}",
                o.session_id.as_deref().unwrap_or("-"),
                if o.new_session { " new" } else { "" }
            ));
            if replaying() {
                eprintln!(
                    "  -> {:?} new {} dup {}",
                    o.session_id, o.new_session, o.duplicate
                );
            }
            if o.session_id.is_none() {
                return Err(format!("not filed: {o:?}"));
            }
        }
    }
    let all = s.list().await.map_err(|e| e.to_string())?;
    let merged = all.iter().filter(|x| x.merged_into.is_some()).count();
    let live: Vec<_> = all
        .into_iter()
        .filter(|x| x.merged_into.is_none())
        .collect();
    let described = format!(
        "seed {seed}: styles {styles:?} renamed {renamed:?} parents {parents:?} order {order:?} arrivals {}",
        arrivals.join(" ")
    );
    if live.len() != 1 {
        let state = left_behind(&s, seed, n).await?;
        return Err(format!(
            "{described}: {} sessions {:?}{state}",
            live.len(),
            live.iter()
                .map(|x| (x.id.clone(), x.messages.len()))
                .collect::<Vec<_>>()
        ));
    }
    if live[0].messages.len() != n {
        return Err(format!(
            "{described}: {} of {n} messages in the session",
            live[0].messages.len()
        ));
    }
    Ok(merged)
}

/// The indexes and sessions a thread left behind: what a failing interleaving did.
async fn left_behind<O: store::ObjectStore>(
    s: &Sessions<O>,
    seed: u64,
    n: usize,
) -> Result<String, String> {
    let ids = thread_ids(seed, n);
    // The indexes as they ended: what the failing interleaving left behind.
    let mut state = String::new();
    for (i, id) in ids.iter().enumerate() {
        let e = s.find_message_id(id).await.map_err(|e| e.to_string())?;
        state.push_str(&format!("\n  id {i} -> {e:?}"));
    }
    let mut subjects = vec!["Pump broken".to_string()];
    subjects.extend((0..n).map(|i| format!("Still leaking ({i})")));
    for subj in subjects {
        let k = mail::subject::subject_key(&subj);
        if let Some(e) = s
            .find_subject("ana@client.example", &k)
            .await
            .map_err(|e| e.to_string())?
        {
            state.push_str(&format!("\n  subject {subj:?} -> {}", e.session_id));
        }
    }
    for x in s.list().await.map_err(|e| e.to_string())? {
        let held: Vec<_> = x.messages.iter().map(|m| m.message_id.clone()).collect();
        state.push_str(&format!(
            "\n  session {} created {} merged_into {:?} holds {held:?}",
            x.id, x.created_at, x.merged_into
        ));
    }
    Ok(state)
}

async fn futures_join_all<F>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        if let Ok(v) = h.await {
            out.push(v);
        }
    }
    out
}

/// Every arrival order, one at a time and in concurrent batches of up to 3 and 6 (on a store that
/// yields at random around every request, so the batches interleave many ways): 300 threads of
/// each in CI. `THREAD_SEEDS=5000` runs more, `THREAD_BATCH=<n>` only batches of up to n,
/// `THREAD_SEED=<n>` replays one seed with its batches.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn property_one_thread_is_one_session_whatever_the_arrival_order() {
    let seeds: u64 = env_number("THREAD_SEEDS").unwrap_or(300);
    let batches: Vec<usize> = match env_number("THREAD_BATCH") {
        Some(b) => vec![b],
        None => vec![1, 3, 6],
    };
    let mut failures = Vec::new();
    let mut merges = 0;
    let only: Option<u64> = env_number("THREAD_SEED");
    for &batch in &batches {
        for seed in only.map(|o| o..o + 1).unwrap_or(0..seeds) {
            let store = Jitter::new(store::MemoryObjectStore::default(), seed ^ 0x5EED);
            // A thread that never settles (a redirect cycle, a livelock) fails with its seed.
            let run = one_thread(store.clone(), seed, batch);
            match tokio::time::timeout(Duration::from_secs(20), run).await {
                Ok(Ok(m)) => merges += m,
                Ok(Err(e)) => failures.push(format!("batch {batch}, {e}")),
                Err(_) => {
                    let state = left_behind(&Sessions::new(store), seed, 6).await;
                    failures.push(format!(
                        "batch {batch}, seed {seed}: did not settle in 20 s{}",
                        state.unwrap_or_else(|e| e)
                    ))
                }
            }
        }
    }
    // A few on the real S3 API too.
    for seed in 0..8u64 {
        if let Err(e) = one_thread(
            s3_store(&format!("prop-{seed}")).await,
            10_000 + seed,
            batches[batches.len() - 1],
        )
        .await
        {
            failures.push(e);
        }
    }
    // Out-of-order arrivals really do take the merge path.
    assert!(
        only.is_some() || merges > 0,
        "no merge happened in {seeds} threads"
    );
    assert!(
        failures.is_empty(),
        "{} failures, e.g.\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
