//! The mail channel checks: forwarding confirmations (e.g. Gmail's) that ingest recorded
//! under `unfiled/`, listed with their code and link, and the state of the forwarding
//! connection test (`mailcase verify --send-test`).

use store::ObjectStore;
use store::sessions::Sessions;

use super::Check;
use crate::ingest::UnfiledRecord;
use store::layout::UNFILED_PREFIX;

/// The forwarding connection test's state (`mailcase verify --send-test` starts one).
pub async fn email_channel<O: ObjectStore>(sessions: &Sessions<O>, now: i64) -> Check {
    use crate::channel::ChannelStatus;
    match crate::channel::status(sessions, now).await {
        Ok(ChannelStatus::Active { seconds, at }) => Check::ok(
            "email_channel",
            format!(
                "Active: the test message came back through forwarding and SES in {seconds} s (at {at})"
            ),
        ),
        Ok(ChannelStatus::Waiting { seconds }) => Check::warn(
            "email_channel",
            format!("Waiting: the test message was sent {seconds} s ago and has not come back yet"),
            "Run `mailcase verify` again in a minute; forwarding usually takes seconds.",
        ),
        Ok(ChannelStatus::Failed { seconds, fix }) => Check::fail(
            "email_channel",
            format!("Failed: the test message sent {seconds} s ago never reached mailcase"),
            fix,
        ),
        Ok(ChannelStatus::Untested) => Check::warn(
            "email_channel",
            "not tested yet",
            "Run `mailcase verify --send-test` to send a test message through the forwarding path.",
        ),
        Err(e) => Check::fail(
            "email_channel",
            format!("cannot read the channel state: {e}"),
            "Check access to the mail bucket.",
        ),
    }
}

/// How long a forwarding confirmation is shown.
const CONFIRMATION_WINDOW_SECS: i64 = 30 * 24 * 3600;
/// At most this many unfiled records are read.
const MAX_UNFILED_READ: usize = 2000;
/// At most this many confirmations are listed.
const MAX_LISTED: usize = 5;

/// Forwarding confirmations (e.g. Gmail's) that ingest recorded in the last 30 days, newest
/// first, each with its code and link.
pub async fn forwarding_confirmations<O: ObjectStore>(
    sessions: &Sessions<O>,
    now: i64,
) -> Vec<Check> {
    let keys = match sessions.objects().list(UNFILED_PREFIX).await {
        Ok(k) => k,
        Err(e) => {
            return vec![Check::fail(
                "forwarding",
                format!("cannot list {UNFILED_PREFIX}: {}", crate::DisplayChain(&e)),
                "Check that your AWS identity may s3:ListBucket and s3:GetObject on the bucket.",
            )];
        }
    };
    let mut found: Vec<(i64, UnfiledRecord)> = Vec::new();
    let mut older = 0;
    // Keys are content hashes, not times: read the last ones listed when there are too many.
    let start = keys.len().saturating_sub(MAX_UNFILED_READ);
    for key in keys[start..].iter().filter(|k| k.ends_with(".json")) {
        let record = match sessions.get_json::<UnfiledRecord>(key).await {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => continue,
        };
        if record.disposition != "forwarding_confirmation" {
            continue;
        }
        let at = crate::time::parse_rfc3339(&record.received_at).unwrap_or(now);
        if now - at > CONFIRMATION_WINDOW_SECS {
            older += 1;
            continue;
        }
        found.push((at, record));
    }
    let read = keys.len() - start;
    let capped = if start > 0 {
        format!(" (read {read} of {} unfiled records)", keys.len())
    } else {
        String::new()
    };
    if found.is_empty() {
        let older = if older > 0 {
            format!("; {older} older than 30 days ignored")
        } else {
            String::new()
        };
        return vec![Check::ok(
            "forwarding",
            format!("no forwarding confirmation received in the last 30 days{older}{capped}"),
        )];
    }
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    let total = found.len();
    found
        .into_iter()
        .take(MAX_LISTED)
        .map(|(_, r)| {
            let fc = r.forwarding_confirmation.clone().unwrap_or(mail::ForwardingConfirmation {
                code: None,
                url: None,
            });
            let from = r
                .subject
                .as_deref()
                .and_then(|s| s.split("Receive Mail from ").nth(1))
                .map(str::trim)
                .map(str::to_string);
            let mut detail = format!(
                "forwarding confirmation received {} from {}",
                r.received_at,
                r.from.as_ref().map(|m| m.address.as_str()).unwrap_or("(unknown sender)")
            );
            if let Some(f) = &from {
                detail.push_str(&format!(" for {f}"));
            }
            if let Some(c) = &fc.code {
                detail.push_str(&format!(": code {c}"));
            }
            if let Some(u) = &fc.url {
                detail.push_str(&format!(", link {u}"));
            }
            if total > MAX_LISTED {
                detail.push_str(&format!(" ({total} in all; newest {MAX_LISTED} shown)"));
            }
            detail.push_str(&capped);
            let mailbox = from.unwrap_or_else(|| "the support mailbox".into());
            let how = match (&fc.url, &fc.code) {
                (Some(u), Some(c)) => format!("open {u} while signed in as {mailbox}, or enter code {c} in Gmail > Settings > Forwarding and POP/IMAP"),
                (Some(u), None) => format!("open {u} while signed in as {mailbox}"),
                (None, Some(c)) => format!("enter code {c} in {mailbox}'s Gmail > Settings > Forwarding and POP/IMAP"),
                (None, None) => format!("confirm the forwarding request in {mailbox}'s mail settings"),
            };
            Check::warn(
                "forwarding",
                detail,
                format!("Forwarding to SES starts only once confirmed: {how}. Ignore this if it is already confirmed."),
            )
        })
        .collect()
}
