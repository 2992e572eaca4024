//! `mailcase demo`: the whole path on embedded defaults — a local directory store, a local
//! outbox instead of SES, and the Dataverse emulator in-process — with the thread shipped in
//! `tools/mailcase/demo/`. Prints what the rep sees. Same library code as the Lambdas.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use app::handoff::{Request, Settings};
use app::inbound::Outlets;
use app::ingest::{Config, Outcome, Receipt};
use app::ports::{NoEvents, StoreQueue};
use app::reply::{Reply, ReplySettings, StoreOutbox};
use app::requests::Worker;
use app::routing::{Policy, Routing};
use dataverse_emulator::Emulator;
use dynamics::{Credentials, DataverseClient, RetryPolicy};
use mail::Mailbox;
use serde_json::{Map, Value};
use store::DirObjectStore;
use store::sessions::Sessions;

const CUSTOMER: &[u8] = include_bytes!("../../demo/01-customer.eml");
const ANSWER: &str = include_str!("../../demo/answer.txt");
const AUTO_REPLY: &str = include_str!("../../demo/03-auto-reply.eml");
const FOLLOW_UP: &str = include_str!("../../demo/04-customer-followup.eml");
const SUPPORT: &str = "support@acme.example";
/// Marks a directory as the demo's, so a rerun may clear it.
const MARKER: &str = ".mailcase-demo";

/// Arguments of `mailcase demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Directory for the demo's sessions and outbox; cleared at the start of each run.
    #[arg(long, default_value = ".mailcase-demo")]
    store: PathBuf,
}

// Times of the demo thread (2026-11-23, UTC), so every run prints the same case.
const T_CUSTOMER: i64 = 1_795_421_563;
const T_ANSWER: i64 = 1_795_428_300;
const T_AUTO_REPLY: i64 = 1_795_428_333;
const T_FOLLOW_UP: i64 = 1_795_432_807;
const T_HANDOFF: i64 = 1_795_433_460;

fn fresh_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let ours = dir.join(MARKER).exists();
        let empty = std::fs::read_dir(dir)?.next().is_none();
        anyhow::ensure!(
            ours || empty,
            "{} exists and is not a demo directory; choose another with --store",
            dir.display()
        );
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(
        dir.join(MARKER),
        "created by `mailcase demo`; removed by the next run\n",
    )?;
    Ok(())
}

fn receipt(id: &str, at: i64) -> Receipt {
    Receipt {
        ses_message_id: id.into(),
        received_at: at,
        spam: None,
        virus: None,
        recipients: Vec::new(),
    }
}

fn line(step: &str, o: &Outcome) {
    let sid = o.session_id.as_deref().unwrap_or("-");
    let what = match (o.disposition.as_str(), o.new_session) {
        ("customer", true) => format!("filed into a new session {sid}"),
        ("customer", false) => format!("filed into session {sid}"),
        (d, _) => format!("not filed: {d} ({})", o.reason),
    };
    println!("  {step:<34} {what}");
}

/// Run the demo.
pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    fresh_dir(&args.store)?;
    let sessions = Sessions::new(DirObjectStore::new(&args.store));
    let outbox = StoreOutbox::new(DirObjectStore::new(&args.store));
    let emu = Emulator::start(dataverse_emulator::Config::default())
        .await
        .context("starting the Dataverse emulator")?;
    let crm = DataverseClient::new(
        Credentials::from_json(&emu.credentials_json())?,
        RetryPolicy::default(),
    )?;
    let seeds = emu.seeds();
    let routing_doc = format!(
        r#"{{"routes": [{{"address": "{SUPPORT}", "queue_id": "{q}", "owner_id": "teams({t})",
                         "ticket_properties": {{"casetypecode": 2}}, "policy": "quiet:10m"}}],
            "rules": [{{"name": "damage", "when": {{"subject": "(?i)damaged|broken|cracked"}},
                        "set": {{"classification": "Shipping damage", "priority": 1}}}}]}}"#,
        q = seeds.queue_id,
        t = seeds.team_id
    );
    let ingest_cfg = Config {
        internal_domains: vec!["acme.example".into()],
        own_addresses: vec![SUPPORT.into()],
        routing: Routing::parse(&routing_doc, &Settings::default(), Policy::Manual)?,
        flood: Default::default(),
    };
    let queue = StoreQueue::new(sessions.clone(), super::now);
    let outlets = Outlets {
        queue: Some(&queue),
        events: &NoEvents,
    };
    let reply_settings = ReplySettings {
        support: Some(Mailbox {
            name: Some("Acme Support".into()),
            address: SUPPORT.into(),
        }),
        ack: true,
        ack_template: None,
        cc: true,
    };

    println!(
        "mailcase demo: local store {}, Dataverse emulator at {}\n",
        args.store.display(),
        emu.base_url()
    );
    println!("The thread");
    let first = app::inbound::process(
        &sessions,
        CUSTOMER,
        &receipt("demo-01", T_CUSTOMER),
        &ingest_cfg,
        outlets,
    )
    .await?;
    line("1. Ana writes (photo attached)", &first);
    let sid = first
        .session_id
        .clone()
        .context("the demo's first message was not filed")?;
    let answer = app::reply::send(
        &sessions,
        &outbox,
        &reply_settings,
        &Reply {
            session_id: sid.clone(),
            text: ANSWER.into(),
            key: "reply:demo-answer".into(),
            automatic: false,
        },
        T_ANSWER,
    )
    .await?;
    println!(
        "  {:<34} sent in the thread as <{}>",
        "2. we answer", answer.message_id
    );
    let fill = |t: &str| {
        t.replace("{{ANSWER_ID}}", &answer.message_id)
            .replace("{{SESSION_TOKEN}}", &sid)
    };
    let auto = app::inbound::process(
        &sessions,
        fill(AUTO_REPLY).as_bytes(),
        &receipt("demo-03", T_AUTO_REPLY),
        &ingest_cfg,
        outlets,
    )
    .await?;
    line("3. Ana's out-of-office answers", &auto);
    let follow = app::inbound::process(
        &sessions,
        fill(FOLLOW_UP).as_bytes(),
        &receipt("demo-04", T_FOLLOW_UP),
        &ingest_cfg,
        outlets,
    )
    .await?;
    line("4. Ana answers our answer", &follow);

    // No handoff request: the route's policy hands the thread off once Ana has been quiet
    // for 10 minutes, and a rule on the subject classifies it.
    let mut worker = Worker::new(
        sessions.clone(),
        crm,
        &Settings {
            session_url_template: Some("https://console.acme.example/sessions/{session_id}".into()),
            ..Settings::default()
        },
        outbox,
        reply_settings,
    );
    worker.routing = ingest_cfg.routing.clone();
    let before = worker.crm.requests();
    let mut case = None;
    for (_, item) in queue.due(T_HANDOFF, true).await? {
        let req: Request = serde_json::from_str(&item.body)?;
        let out = worker
            .handle(&req, T_HANDOFF)
            .await
            .map_err(|f| anyhow::anyhow!("{f}"))?;
        if out.get("incident_id").is_some() && case.is_none() {
            case = Some(out);
        }
    }
    let case = case.context("the quiet-period handoff did not create the case")?;
    let requests = worker.crm.requests() - before;
    let s = |k: &str| case[k].as_str().unwrap_or("").to_string();
    println!(
        "  {:<34} case {} created by the route's policy (quiet:10m) in {requests} Dynamics requests, no handoff request; acknowledgement <{}> (via {})",
        "5. Ana is quiet for 10 minutes",
        s("ticket_number"),
        s("acknowledgement"),
        s("via"),
    );
    let case = app::handoff::Outcome {
        session_id: s("session_id"),
        incident_id: s("incident_id"),
        ticket_number: s("ticket_number"),
        created: true,
        dropped_properties: Vec::new(),
        followups_noted: 0,
        followups_new_sessions: Vec::new(),
        followup_keys: Vec::new(),
        truncated: false,
    };

    print_case(&emu, &case.incident_id)?;
    println!(
        "\nMail we sent is in {}/outbox/ (SES when deployed).",
        args.store.display()
    );
    println!(
        "Look around: mailcase sessions --store {0}   |   mailcase show {sid} --store {0}",
        args.store.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn text<'a>(r: &'a Map<String, Value>, k: &str) -> &'a str {
    r.get(k).and_then(Value::as_str).unwrap_or("")
}

fn find<'a>(rows: &'a [Map<String, Value>], key: &str, id: &str) -> Option<&'a Map<String, Value>> {
    rows.iter().find(|r| text(r, key) == id)
}

/// What the rep sees, read back from the emulator's tables.
fn print_case(emu: &Emulator, incident_id: &str) -> anyhow::Result<()> {
    let incidents = emu.records("incidents");
    let incident =
        find(&incidents, "incidentid", incident_id).context("the case is not in Dynamics")?;
    let contacts = emu.records("contacts");
    let contact = find(&contacts, "contactid", text(incident, "_customerid_value"));
    let queue_items = emu.records("queueitems");
    let queues = emu.records("queues");
    let queue = find(&queue_items, "_objectid_value", incident_id)
        .and_then(|qi| find(&queues, "queueid", text(qi, "_queueid_value")));
    let teams = emu.records("teams");
    let owner = find(&teams, "teamid", text(incident, "_ownerid_value"));
    let priority = match incident.get("prioritycode").and_then(Value::as_i64) {
        Some(1) => "1 (High)".to_string(),
        Some(2) => "2 (Normal)".to_string(),
        Some(3) => "3 (Low)".to_string(),
        Some(n) => n.to_string(),
        None => "-".into(),
    };
    let notes = emu
        .records("annotations")
        .into_iter()
        .filter(|n| text(n, "_objectid_value") == incident_id)
        .count();
    println!("\nWhat the rep sees in Dynamics 365 Customer Service");
    println!("  Ticket number  {}", text(incident, "ticketnumber"));
    println!("  Title          {}", text(incident, "title"));
    println!(
        "  Queue          {}",
        queue.map(|q| text(q, "name")).unwrap_or("(not in a queue)")
    );
    println!(
        "  Owner          {}",
        owner.map(|t| text(t, "name")).unwrap_or("-")
    );
    println!("  Priority       {priority}");
    println!(
        "  Origin         Email (caseorigincode {})",
        incident.get("caseorigincode").unwrap_or(&Value::Null)
    );
    match contact {
        Some(c) => println!(
            "  Contact        {} {} <{}>",
            text(c, "firstname"),
            text(c, "lastname"),
            text(c, "emailaddress1")
        ),
        None => println!("  Contact        (none)"),
    }
    println!("  Notes          {notes}");
    println!("  Description");
    for l in text(incident, "description").lines() {
        println!("    {l}");
    }
    Ok(())
}
