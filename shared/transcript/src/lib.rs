//! What the rep reads: the incident title, the description (header lines + the thread as a
//! timestamped transcript, cut to the column's limit keeping the newest messages) and the full
//! transcript as note text.
//!
//! Pure: no I/O, no clock, no panics. Lengths are counted in UTF-16 code units, the unit of
//! Dataverse's `MaxLength` (a .NET string length); for text outside the Basic Multilingual
//! Plane that is stricter than counting characters, which is the safe side of the limit.
//!
//! ```
//! use transcript::{Thread, Entry, Direction, Details, title, description};
//! let thread = Thread {
//!     session_id: "mc-0123456789abcdef".into(),
//!     customer_name: Some("Ana Lima".into()),
//!     customer_email: Some("ana@example.com".into()),
//!     previous_ticket: None,
//!     related: None,
//!     participants: vec![],
//!     messages: vec![Entry {
//!         timestamp: "2024-03-12T10:15:00Z".into(), direction: Direction::Inbound,
//!         author: "Ana Lima <ana@example.com>".into(), text: "My order arrived damaged.".into(),
//!         attachments: vec![],
//!     }],
//! };
//! assert_eq!(title(Some("Billing"), &thread, 200), "Billing - Ana Lima");
//! let d = description(&thread, &Details::default(), 2000);
//! assert!(d.text.contains("[2024-03-12 10:15:00 UTC] Ana Lima <ana@example.com> (customer):"));
//! assert!(!d.truncated);
//! ```
#![warn(missing_docs)]

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The customer.
    Inbound,
    /// Us (an agent or the AI assistant).
    Outbound,
}

/// One message of the thread, already stripped of quoted history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// RFC 3339 UTC (`2024-03-12T10:15:00Z`).
    pub timestamp: String,
    /// Who wrote it.
    pub direction: Direction,
    /// `Name <address>` or the address.
    pub author: String,
    /// The new text of the message.
    pub text: String,
    /// Attachments as (file name, size in bytes).
    pub attachments: Vec<(String, u64)>,
}

/// The thread to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    /// Session id.
    pub session_id: String,
    /// Customer's display name.
    pub customer_name: Option<String>,
    /// Customer's address.
    pub customer_email: Option<String>,
    /// Ticket number of the earlier, closed case this thread continues.
    pub previous_ticket: Option<String>,
    /// The case or session a stranger's message pointed at (it did not join it).
    pub related: Option<String>,
    /// Everyone on the thread besides us (`Name <address> (role)`), customer first.
    pub participants: Vec<String>,
    /// Messages, oldest first.
    pub messages: Vec<Entry>,
}

/// The handoff's own facts for the header lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    /// Classification (also the title's first part).
    pub classification: Option<String>,
    /// Sentiment.
    pub sentiment: Option<String>,
    /// One-line summary.
    pub summary: Option<String>,
    /// Link to the session (from `SESSION_URL_TEMPLATE`).
    pub session_url: Option<String>,
    /// Ticket properties that Dynamics refused, as (column, why).
    pub dropped_properties: Vec<(String, String)>,
    /// Header lines about the thread's attachments (e.g. how many inline images were left
    /// out), one line each.
    pub attachment_lines: Vec<String>,
}

/// A rendered description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    /// The text, within the limit.
    pub text: String,
    /// True when older messages (or part of the newest) had to be left out.
    pub truncated: bool,
}

/// Length as Dataverse counts it (UTF-16 code units).
pub fn dv_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The longest prefix of `s` within `max` UTF-16 units, on a character boundary.
pub fn cut(s: &str, max: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        used += c.len_utf16();
        if used > max {
            return &s[..i];
        }
    }
    s
}

/// `s` cut to `max` with an ellipsis when it had to be cut.
fn cut_marked(s: &str, max: usize) -> String {
    if dv_len(s) <= max {
        return s.to_string();
    }
    let mut out = cut(s, max.saturating_sub(1)).trim_end().to_string();
    out.push('…');
    out
}

/// Single line: control characters and runs of whitespace become one space.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `<classification> - <sender name or email>`, `Support - Anonymous` when neither is known,
/// cut to `max`.
pub fn title(classification: Option<&str>, thread: &Thread, max: usize) -> String {
    let class = classification
        .map(one_line)
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "Support".into());
    let who = thread
        .customer_name
        .as_deref()
        .or(thread.customer_email.as_deref())
        .map(one_line)
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| "Anonymous".into());
    cut_marked(&format!("{class} - {who}"), max)
}

/// Header lines of the description and the note.
pub fn header(thread: &Thread, details: &Details) -> String {
    let mut h = String::from("Channel: email\n");
    let mut line = |label: &str, value: Option<&str>| {
        if let Some(v) = value.map(one_line).filter(|v| !v.is_empty()) {
            h.push_str(&format!("{label}: {v}\n"));
        }
    };
    line("Classification", details.classification.as_deref());
    line("Sentiment", details.sentiment.as_deref());
    line("Summary", details.summary.as_deref());
    line("Customer", thread.customer_name.as_deref());
    line("Email", thread.customer_email.as_deref());
    let session = details
        .session_url
        .clone()
        .unwrap_or_else(|| thread.session_id.clone());
    line("Session", Some(&session));
    line("Continues case", thread.previous_ticket.as_deref());
    line("Possibly related to", thread.related.as_deref());
    if thread.participants.len() > 1 {
        line("Participants", Some(&thread.participants.join(", ")));
    }
    for (column, why) in &details.dropped_properties {
        h.push_str(&format!(
            "Dropped ticket property {}: {}\n",
            one_line(column),
            one_line(why)
        ));
    }
    for l in &details.attachment_lines {
        h.push_str(&format!("{}\n", one_line(l)));
    }
    h
}

/// `2024-03-12T10:15:00Z` -> `2024-03-12 10:15:00 UTC`.
fn human_time(ts: &str) -> String {
    match ts.strip_suffix('Z') {
        Some(t) => format!("{} UTC", t.replacen('T', " ", 1)),
        None => ts.to_string(),
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

/// One message as transcript text.
pub fn render_entry(e: &Entry) -> String {
    let role = match e.direction {
        Direction::Inbound => "customer",
        Direction::Outbound => "support",
    };
    let text = e.text.trim();
    let mut s = format!(
        "[{}] {} ({role}):\n{}\n",
        human_time(&e.timestamp),
        one_line(&e.author),
        if text.is_empty() { "(no text)" } else { text }
    );
    if !e.attachments.is_empty() {
        let list: Vec<String> = e
            .attachments
            .iter()
            .map(|(n, b)| format!("{} ({})", one_line(n), size(*b)))
            .collect();
        s.push_str(&format!("Attachments: {}\n", list.join(", ")));
    }
    s
}

/// The description: header, then as many of the newest messages as fit in `max`, oldest of
/// those first. When something is left out it says so and points to the full-transcript note.
pub fn description(thread: &Thread, details: &Details, max: usize) -> Description {
    let head = header(thread, details);
    let total = thread.messages.len();
    let full = format!(
        "{head}\n--- Transcript ({total} messages) ---\n\n{}",
        body(&thread.messages)
    );
    if dv_len(&full) <= max {
        return Description {
            text: full.trim_end().to_string(),
            truncated: false,
        };
    }
    let rendered: Vec<String> = thread
        .messages
        .iter()
        .map(|m| format!("{}\n", render_entry(m)))
        .collect();
    // Newest first until the budget is spent; the notice's length depends on how many are
    // left out, so it is reserved at its largest.
    let notice = |omitted: usize| {
        let what = match omitted {
            0 => "the message is cut short".to_string(),
            n => format!("{n} of {total} earlier messages not shown"),
        };
        format!(
            "--- Transcript: {what} (description limit {max} characters); the complete transcript is in the note \"Email transcript\" ---\n\n"
        )
    };
    let longest = dv_len(&notice(total)).max(dv_len(&notice(0)));
    let budget = max.saturating_sub(dv_len(&head) + 1 + longest);
    let mut kept: Vec<&String> = Vec::new();
    let mut used = 0;
    for r in rendered.iter().rev() {
        if used + dv_len(r) > budget {
            break;
        }
        used += dv_len(r);
        kept.push(r);
    }
    kept.reverse();
    // Not even the newest message fits: its beginning is shown, so it is not counted as left out.
    let shown = if kept.is_empty() {
        usize::from(!rendered.is_empty())
    } else {
        kept.len()
    };
    let mut text = format!("{head}\n{}", notice(total - shown));
    if kept.is_empty() {
        // Not even the newest message fits: show its beginning.
        if let Some(last) = rendered.last() {
            text.push_str(&cut_marked(last, budget));
        }
    } else {
        for r in kept {
            text.push_str(r);
        }
    }
    let text = cut(text.trim_end(), max).to_string();
    Description {
        text,
        truncated: true,
    }
}

fn body(messages: &[Entry]) -> String {
    messages
        .iter()
        .map(|m| format!("{}\n", render_entry(m)))
        .collect()
}

/// The complete transcript as note texts of at most `max` units each (one note unless the thread
/// is longer than a note; a single message longer than a note is split across notes).
pub fn notes(thread: &Thread, details: &Details, max: usize) -> Vec<String> {
    let full = format!(
        "{}\n--- Transcript ({} messages) ---\n\n{}",
        header(thread, details),
        thread.messages.len(),
        body(&thread.messages)
    );
    split(full.trim_end(), max.max(1))
}

/// A follow-up message as note text (mail that arrived after the handoff).
pub fn follow_up(entry: &Entry, max: usize) -> Vec<String> {
    split(
        format!("Follow-up email\n\n{}", render_entry(entry)).trim_end(),
        max.max(1),
    )
}

/// Split at line ends where possible, each piece within `max`.
fn split(s: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = s;
    while dv_len(rest) > max {
        let head = cut(rest, max);
        let at = head.rfind('\n').filter(|&i| i > 0).unwrap_or(head.len());
        parts.push(rest[..at].trim_end().to_string());
        rest = rest[at..].trim_start_matches('\n');
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_string());
    }
    parts
}

#[cfg(test)]
mod tests;
