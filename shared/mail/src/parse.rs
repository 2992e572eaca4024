//! MIME bytes to [`InboundMessage`]: the entry point into `mail-parser` (with `headers`, `body`,
//! `parts` and `repair` over its types), so a parser upgrade (1.0 needs rustc 1.98) stays local.

use std::panic::{AssertUnwindSafe, catch_unwind};

use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders};

pub(crate) use crate::body::{BodyKind, body_text, normalise_text};
use crate::headers::{Headers, display, normalise_address, rfc3339_utc};
use crate::model::{Disposition, InboundMessage, Mailbox, ParseOptions};
use crate::parts::take_attachments;
use crate::{classify, forward, repair, strip, subject};

/// Parse raw message bytes. Never panics and never fails: broken MIME is read on a best-effort
/// basis, and input without any header block is treated as a bare text body.
pub fn parse(raw: &[u8], opts: &ParseOptions) -> InboundMessage {
    // mail-parser is fuzzed and documents that it never panics; the guard keeps that promise
    // ours even if a future version regresses, because one bad mail must not stop ingest.
    match catch_unwind(AssertUnwindSafe(|| parse_inner(raw, opts))) {
        Ok(msg) => msg,
        Err(_) => fallback(
            raw,
            opts,
            "the MIME parser failed; the message is kept as raw text",
        ),
    }
}

fn parse_inner(raw: &[u8], opts: &ParseOptions) -> InboundMessage {
    let transcoded = repair::transcode_8bit_headers(raw);
    let raw = transcoded.as_deref().unwrap_or(raw);
    let addresses_fixed = crate::address::decode_encoded_local_parts(raw);
    let raw = addresses_fixed.as_deref().unwrap_or(raw);
    let Some(mut msg) = MessageParser::default().parse(raw) else {
        return fallback(
            raw,
            opts,
            "no header block found; the input is kept as text",
        );
    };
    if msg.text_body.is_empty() && msg.html_body.is_empty() && msg.attachments.is_empty() {
        if !repair::starts_with_header(raw) {
            return fallback(
                raw,
                opts,
                "no header block found; the input is kept as text",
            );
        }
        // A body line glued to the headers (no blank line) is read as a broken header and the
        // body vanishes: put the missing separator back and read again.
        if let Some(fixed) = repair::insert_missing_blank_line(raw)
            && let Some(mut fixed_msg) = MessageParser::default().parse(&fixed)
            && (!fixed_msg.text_body.is_empty() || !fixed_msg.html_body.is_empty())
        {
            return build(&mut fixed_msg, opts);
        }
    }
    build(&mut msg, opts)
}

/// `msg` is mutable only so the attachments' decoded bytes can be moved out of it
/// ([`take_attachments`]); nothing else changes it.
fn build(msg: &mut Message<'_>, opts: &ParseOptions) -> InboundMessage {
    let mut attachments = take_attachments(msg);
    let msg = &*msg;
    let headers = Headers::from_message(msg);
    let (timestamp, date) = date_of(msg.date(), opts.received_at);
    let from = first_mailbox(msg.from());
    let sender_problem = msg
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .and_then(|a| crate::address::problem(&normalise_address(a)));
    let subject = msg.subject().map(crate::headers::clean);
    let (mut text, mut plain) = body_text(msg);
    // Outlook's winmail.dat unpacked, cid: references from the HTML marked (tnef.rs, cid.rs).
    crate::tnef::expand(&mut attachments);
    crate::cid::mark_referenced(
        &mut attachments,
        msg.html_bodies().filter_map(|p| p.text_contents()),
    );
    if matches!(plain, BodyKind::None)
        && let Some((t, kind, recovered)) = repair::body_from_attachments(&mut attachments)
    {
        text = t;
        plain = kind;
        attachments.extend(recovered);
    }
    let forwarded = subject.as_deref().is_some_and(subject::is_forward);
    let reply_text = plain.reply(&text, forwarded);
    let nested: Vec<&Message<'_>> = msg.attachments().filter_map(|p| p.message()).collect();
    let classified = classify::classify(
        &headers,
        from.as_ref(),
        subject.as_deref(),
        &text,
        &msg_content_type(msg),
        &opts.internal_domains,
    );
    let mut out = InboundMessage {
        message_id: msg.message_id().and_then(clean_id),
        in_reply_to: ids(msg.in_reply_to()).into_iter().next(),
        references: ids(msg.references()),
        date,
        timestamp,
        from,
        to: mailboxes(msg.to()),
        cc: mailboxes(msg.cc()),
        reply_to: mailboxes(msg.reply_to()),
        customer: None,
        thread_subject: subject::thread_subject(subject.as_deref().unwrap_or("")),
        subject,
        text,
        reply_text,
        attachments,
        disposition: classified.disposition,
        disposition_reason: classified.reason,
        forwarding_confirmation: classified.confirmation,
        delivered_to: headers.delivered_to(),
        mailcase_session: headers
            .get("x-mailcase-session")
            .map(|v| crate::headers::clean(v).trim().to_string())
            .filter(|v| !v.is_empty()),
        customer_unknown: None,
    };
    // A bounce carries the original message as a nested part; showing it as forwarded content
    // would put our own words into the transcript.
    if out.disposition != Disposition::Bounce {
        for inner in &nested {
            append_forwarded(&mut out, inner);
        }
    }
    let nested_from = nested.iter().find_map(|m| first_mailbox(m.from()));
    out.customer = forward::customer(&out, &headers, nested_from, &opts.internal_domains);
    if let Some(problem) = sender_problem
        && out.customer.as_ref().is_none_or(|c| c.address.is_empty())
    {
        // The sender wrote an address that is nobody's: file the message without a customer
        // rather than create a contact for it or drop the message.
        out.customer = None;
        out.customer_unknown = Some(format!("{problem}; the customer is unknown"));
    }
    out
}

fn fallback(raw: &[u8], opts: &ParseOptions, reason: &str) -> InboundMessage {
    let text = normalise_text(&String::from_utf8_lossy(raw));
    let (timestamp, date) = date_of(None, opts.received_at);
    let classified = classify::classify(
        &Headers::empty(),
        None,
        None,
        &text,
        "",
        &opts.internal_domains,
    );
    InboundMessage {
        message_id: None,
        in_reply_to: None,
        references: Vec::new(),
        date,
        timestamp,
        from: None,
        to: Vec::new(),
        cc: Vec::new(),
        reply_to: Vec::new(),
        customer: None,
        subject: None,
        thread_subject: String::new(),
        reply_text: strip::reply_text(&text),
        text,
        attachments: Vec::new(),
        disposition: classified.disposition,
        disposition_reason: format!("{}; {reason}", classified.reason),
        forwarding_confirmation: None,
        delivered_to: Vec::new(),
        mailcase_session: None,
        customer_unknown: None,
    }
}

fn date_of(date: Option<&mail_parser::DateTime>, received_at: Option<i64>) -> (i64, String) {
    let ts = date
        .filter(|d| d.is_valid())
        .map(|d| d.to_timestamp())
        .or(received_at)
        .unwrap_or(0);
    (ts, rfc3339_utc(ts))
}

fn clean_id(id: &str) -> Option<String> {
    let id = id.trim().trim_matches(|c| c == '<' || c == '>').trim();
    (!id.is_empty() && !id.chars().any(|c| c.is_whitespace() || c.is_control()))
        .then(|| id.to_string())
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<&str> = match value {
        HeaderValue::Text(t) => t.split_whitespace().collect(),
        HeaderValue::TextList(list) => list.iter().map(|t| t.as_ref()).collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for id in raw.into_iter().filter_map(clean_id) {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

fn mailbox(addr: &mail_parser::Addr<'_>) -> Option<Mailbox> {
    // An address with an empty local part or domain is nobody's: keep only the name.
    let address = addr
        .address()
        .map(normalise_address)
        .filter(|a| crate::address::problem(a).is_none())
        .unwrap_or_default();
    let name = addr
        .name()
        .map(crate::headers::clean)
        .map(|n| n.trim_matches(|c| c == '"' || c == '\'').trim().to_string())
        .filter(|n| !n.is_empty() && normalise_address(n) != address);
    (!address.is_empty() || name.is_some()).then_some(Mailbox { name, address })
}

fn mailboxes(addr: Option<&Address<'_>>) -> Vec<Mailbox> {
    addr.map(|a| a.iter().filter_map(mailbox).collect())
        .unwrap_or_default()
}

pub(crate) fn first_mailbox(addr: Option<&Address<'_>>) -> Option<Mailbox> {
    addr.and_then(|a| a.iter().find_map(mailbox))
}

fn msg_content_type(msg: &Message<'_>) -> String {
    msg.parts
        .first()
        .and_then(|p| p.content_type())
        .map(|ct| {
            let mut s = ct.ctype().to_ascii_lowercase();
            if let Some(sub) = ct.subtype() {
                s.push('/');
                s.push_str(&sub.to_ascii_lowercase());
            }
            if let Some(rt) = ct.attribute("report-type") {
                s.push_str("; report-type=");
                s.push_str(&rt.to_ascii_lowercase());
            }
            s
        })
        .unwrap_or_default()
}

/// A message forwarded as an attachment is content the sender is handing us: make its text
/// readable in the transcript instead of leaving it as an opaque `.eml`.
fn append_forwarded(out: &mut InboundMessage, inner: &Message<'_>) {
    let (text, kind) = body_text(inner);
    let reply = kind.reply(&text, false);
    let mut header = String::from("---------- Forwarded message ----------\n");
    if let Some(f) = first_mailbox(inner.from()) {
        header.push_str(&format!("From: {}\n", crate::headers::clean(&display(&f))));
    }
    if let Some(d) = inner.date().filter(|d| d.is_valid()) {
        header.push_str(&format!("Date: {}\n", rfc3339_utc(d.to_timestamp())));
    }
    if let Some(s) = inner.subject() {
        header.push_str(&format!("Subject: {}\n", crate::headers::clean(s)));
    }
    for (target, body) in [(&mut out.text, &text), (&mut out.reply_text, &reply)] {
        if !target.is_empty() {
            target.push_str("\n\n");
        }
        target.push_str(&header);
        target.push('\n');
        target.push_str(body);
    }
}
