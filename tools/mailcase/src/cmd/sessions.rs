//! `mailcase sessions` and `mailcase show`.

use std::process::ExitCode;

use serde_json::json;
use store::session::{Direction, Session};

use super::store::{StoreArgs, with_sessions};

/// Arguments of `mailcase sessions`.
#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

/// Arguments of `mailcase show`.
#[derive(clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The whole session as JSON.
    #[arg(long)]
    json: bool,
    /// Session id (`mc-…`).
    session: store::SessionId,
}

/// List sessions, newest activity first.
pub async fn list(args: &ListArgs) -> anyhow::Result<ExitCode> {
    let all = with_sessions!(args.store, |sessions| sessions.list().await?);
    if !args.json {
        println!(
            "{:<20} {:<10} {:>4}  {:<20}  {:<30} SUBJECT",
            "SESSION", "STATE", "MSGS", "LAST ACTIVITY", "CUSTOMER"
        );
    }
    // A session merged into another is only a redirect now: its thread is listed once, there.
    for s in all.iter().filter(|s| s.merged_into.is_none()) {
        let customer = s
            .customer
            .as_ref()
            .map(|c| c.address.clone())
            .unwrap_or_default();
        if args.json {
            println!(
                "{}",
                json!({"id": s.id, "state": s.state.as_str(), "customer": s.customer, "subject": s.subject,
                       "messages": s.messages.len(), "last_activity": s.last_activity,
                       "ticket_number": s.handoff.as_ref().map(|h| &h.dynamics365_ticket_number)})
            );
        } else {
            println!(
                "{:<20} {:<10} {:>4}  {:<20}  {:<30} {}",
                s.id,
                s.state.as_str(),
                s.messages.len(),
                s.last_activity,
                customer,
                s.subject
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Print one session with its messages in order.
pub async fn show(args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let found = with_sessions!(args.store, |sessions| {
        app::merge::load_resolved(&sessions, &args.session).await?
    });
    if let Some(s) = found.as_ref().filter(|s| s.id != args.session.as_str()) {
        eprintln!(
            "mailcase: session {} was merged into {} (one thread); showing {}",
            args.session, s.id, s.id
        );
    }
    let Some(s) = found else {
        eprintln!(
            "mailcase: no session {} (list them with `mailcase sessions`)",
            args.session
        );
        return Ok(ExitCode::FAILURE);
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        print!("{}", render(&s));
    }
    Ok(ExitCode::SUCCESS)
}

fn render(s: &Session) -> String {
    let mut out = format!("Session:   {}\nState:     {}\n", s.id, s.state.as_str());
    if let Some(c) = &s.customer {
        out += &format!(
            "Customer:  {}{}\n",
            c.name
                .as_deref()
                .map(|n| format!("{n} "))
                .unwrap_or_default(),
            format_args!("<{}>", c.address)
        );
    }
    out += &format!(
        "Subject:   {}\nCreated:   {}\nActivity:  {}\n",
        s.subject, s.created_at, s.last_activity
    );
    if let Some(h) = &s.handoff {
        out += &format!(
            "Case:      {} ({})\n",
            h.dynamics365_ticket_number, h.dynamics365_incident_id
        );
    }
    if let Some(t) = &s.previous_ticket {
        out += &format!("Continues: {t}\n");
    }
    for (i, m) in s.messages.iter().enumerate() {
        let who = m.from.as_ref().map(|f| f.address.as_str()).unwrap_or("-");
        let dir = match m.direction {
            Direction::Inbound => "from",
            Direction::Outbound => "sent by",
        };
        out += &format!(
            "\n--- [{}] {} {dir} {who}{}\n",
            i + 1,
            m.date,
            if m.after_handoff {
                " (after handoff)"
            } else {
                ""
            }
        );
        out += &m.reply_text;
        out.push('\n');
        for a in &m.attachments {
            out += &format!(
                "    [attachment] {} ({}, {} bytes)\n",
                a.filename, a.content_type, a.size
            );
        }
    }
    out
}
