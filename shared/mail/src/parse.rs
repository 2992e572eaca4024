//! MIME bytes to [`InboundMessage`]: the only module that touches `mail-parser`, so a parser
//! upgrade (1.0 needs rustc 1.98) stays local.

use std::panic::{AssertUnwindSafe, catch_unwind};

use mail_parser::{
    Address, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType,
};

pub(crate) use crate::body::{BodyKind, body_text, normalise_text};
use crate::model::{Attachment, Disposition, InboundMessage, Mailbox, ParseOptions};
use crate::{classify, forward, repair, strip, subject};

/// Header lookups used by classification and forwarding, over the top-level header block.
pub(crate) struct Headers {
    /// (lower-case name, unfolded raw value) in order of appearance.
    entries: Vec<(String, String)>,
}

impl Headers {
    fn from_message(msg: &Message<'_>) -> Self {
        let raw = msg.raw_message();
        let entries = msg
            .parts
            .first()
            .map(|root| {
                root.headers
                    .iter()
                    .map(|h| {
                        let value = raw
                            .get(h.offset_start as usize..h.offset_end as usize)
                            .map(|v| String::from_utf8_lossy(v).into_owned())
                            .unwrap_or_default();
                        (h.name().to_ascii_lowercase(), unfold(&value))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Headers { entries }
    }

    /// Headers of a message that had none (plain text, binary junk).
    pub(crate) fn empty() -> Self {
        Headers {
            entries: Vec::new(),
        }
    }

    /// First value of the header `name` (case-insensitive), unfolded and trimmed.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Plain addresses of every `Delivered-To`, `X-Original-To` and `X-Forwarded-To` header
    /// (comma-separated values split), lower-cased, without duplicates.
    pub(crate) fn delivered_to(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (name, value) in &self.entries {
            if !matches!(
                name.as_str(),
                "delivered-to" | "x-original-to" | "x-forwarded-to"
            ) {
                continue;
            }
            for part in value.split(',') {
                let a = normalise_address(part);
                if a.contains('@') && !a.contains(char::is_whitespace) && !out.contains(&a) {
                    out.push(a);
                }
            }
        }
        out
    }

    /// True when the header is present at all.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    #[cfg(test)]
    pub(crate) fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Headers {
            entries: pairs
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
                .collect(),
        }
    }
}

fn unfold(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Normalise an e-mail address for matching and storage: trims space, angle brackets, a
/// `mailto:` prefix and trailing dots, and lower-cases it. Mail providers treat local parts
/// case-insensitively in practice, and Dynamics matches `emailaddress1` without case, so one
/// lower-case form keeps threading and contact lookup consistent.
pub fn normalise_address(address: &str) -> String {
    let a = address
        .trim()
        .trim_matches(|c| c == '<' || c == '>' || c == '"');
    let a = a
        .strip_prefix("mailto:")
        .or_else(|| a.strip_prefix("MAILTO:"))
        .unwrap_or(a);
    a.trim().trim_end_matches('.').to_lowercase()
}

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
    let subject = msg.subject().map(crate::compose::clean);
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
            .map(|v| crate::compose::clean(v).trim().to_string())
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

/// RFC 5322 date, e.g. `Tue, 12 Mar 2024 10:15:00 +0000`.
pub(crate) fn rfc822_date(ts: i64) -> String {
    mail_parser::DateTime::from_timestamp(ts).to_rfc822()
}

/// RFC 3339 in UTC with a `Z` suffix, e.g. `2024-03-12T10:15:00Z`.
pub fn rfc3339_utc(ts: i64) -> String {
    let d = mail_parser::DateTime::from_timestamp(ts);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year, d.month, d.day, d.hour, d.minute, d.second
    )
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
        .map(crate::compose::clean)
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

pub(crate) fn attachments(msg: &Message<'_>) -> Vec<Attachment> {
    msg.attachments()
        .enumerate()
        .map(|(i, part)| {
            let content = part.contents().to_vec();
            attachment(i, part, content)
        })
        .collect()
}

/// [`attachments`], with the decoded bytes of binary parts moved out of `msg` instead of copied:
/// mail-parser already holds each decoded file, and a copy would hold a large attachment twice.
/// The taken parts read as empty afterwards; only binary parts are taken (text parts may be
/// body parts too, nested messages are read again for forwarded text), and only a part listed
/// once.
fn take_attachments(msg: &mut Message<'_>) -> Vec<Attachment> {
    let ids = msg.attachments.clone();
    ids.iter()
        .enumerate()
        // map_while: mail-parser's own iterator stops at the first id without a part.
        .map_while(|(i, &id)| {
            let once = ids.iter().filter(|&&other| other == id).count() == 1;
            let part = msg.parts.get_mut(id as usize)?;
            let content = match &mut part.body {
                PartType::Binary(bytes) | PartType::InlineBinary(bytes) if once => {
                    std::mem::take(bytes).into_owned()
                }
                _ => part.contents().to_vec(),
            };
            Some(attachment(i, part, content))
        })
        .collect()
}

fn attachment(index: usize, part: &MessagePart<'_>, content: Vec<u8>) -> Attachment {
    let content_type = part
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        })
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_else(|| match &part.body {
            PartType::Text(_) => "text/plain".into(),
            PartType::Html(_) => "text/html".into(),
            PartType::Message(_) => "message/rfc822".into(),
            _ => "application/octet-stream".into(),
        });
    let named = part.attachment_name().map(str::to_string).or_else(|| {
        part.message()
            .and_then(|m| m.subject())
            .map(|s| format!("{s}.eml"))
    });
    let filename = named
        .as_deref()
        .map(safe_filename)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("part-{}{}", index + 1, extension_for(&content_type)));
    let inline = matches!(part.body, PartType::InlineBinary(_))
        || part
            .content_disposition()
            .is_some_and(|cd| cd.ctype().eq_ignore_ascii_case("inline"));
    let winmail =
        content_type == "application/ms-tnef" || filename.eq_ignore_ascii_case("winmail.dat");
    Attachment {
        filename,
        content_type,
        size: content.len() as u64,
        inline,
        winmail,
        content_id: part.content_id().map(crate::cid::clean_id),
        referenced: false,
        content,
    }
}

/// A file name with any path, control characters and surrounding dots/space removed, at most
/// 200 bytes; never `.` or `..`.
pub(crate) fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| {
            if matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let mut cleaned = cleaned.trim().trim_matches('.').trim().to_string();
    if cleaned.len() > 200 {
        let mut cut = 200;
        while !cleaned.is_char_boundary(cut) {
            cut -= 1;
        }
        cleaned.truncate(cut);
    }
    cleaned
}

fn extension_for(content_type: &str) -> &'static str {
    match content_type {
        "text/plain" => ".txt",
        "text/html" => ".html",
        "message/rfc822" => ".eml",
        "application/pdf" => ".pdf",
        "image/png" => ".png",
        "image/jpeg" => ".jpg",
        "image/gif" => ".gif",
        _ => ".bin",
    }
}

/// A message forwarded as an attachment is content the sender is handing us: make its text
/// readable in the transcript instead of leaving it as an opaque `.eml`.
fn append_forwarded(out: &mut InboundMessage, inner: &Message<'_>) {
    let (text, kind) = body_text(inner);
    let reply = kind.reply(&text, false);
    let mut header = String::from("---------- Forwarded message ----------\n");
    if let Some(f) = first_mailbox(inner.from()) {
        header.push_str(&format!("From: {}\n", crate::compose::clean(&display(&f))));
    }
    if let Some(d) = inner.date().filter(|d| d.is_valid()) {
        header.push_str(&format!("Date: {}\n", rfc3339_utc(d.to_timestamp())));
    }
    if let Some(s) = inner.subject() {
        header.push_str(&format!("Subject: {}\n", crate::compose::clean(s)));
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

/// `Name <address>` or just the address.
pub(crate) fn display(m: &Mailbox) -> String {
    match &m.name {
        Some(n) => format!("{n} <{}>", m.address),
        None => m.address.clone(),
    }
}
