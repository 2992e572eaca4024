//! Header-level helpers every part of the crate shares — the top-level header block
//! ([`Headers`], [`header_end`]), addresses ([`normalise_address`], [`display`]), dates
//! ([`rfc822_date`], [`rfc3339_utc`]) and cleaned header values ([`clean`]). A leaf: parsing,
//! classifying, forwarding and composing all use it, and it uses none of them.

use mail_parser::Message;

use crate::model::Mailbox;

/// Header lookups used by classification and forwarding, over the top-level header block.
pub(crate) struct Headers {
    /// (lower-case name, unfolded raw value) in order of appearance.
    entries: Vec<(String, String)>,
}

impl Headers {
    pub(crate) fn from_message(msg: &Message<'_>) -> Self {
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

/// Offset just past the header block (the blank line), or the whole input when there is none.
/// One forward pass that stops at the first blank line, so a large body is never scanned.
pub(crate) fn header_end(raw: &[u8]) -> usize {
    let mut from = 0;
    while let Some(off) = raw
        .get(from..)
        .and_then(|r| r.iter().position(|&b| b == b'\n'))
    {
        let nl = from + off;
        match (raw.get(nl + 1), raw.get(nl + 2)) {
            (Some(b'\n'), _) => return nl + 2,
            (Some(b'\r'), Some(b'\n')) => return nl + 3,
            _ => from = nl + 1,
        }
    }
    raw.len()
}

/// RFC 5322 date, e.g. `Tue, 12 Mar 2024 10:15:00 +0000`.
pub fn rfc822_date(ts: i64) -> String {
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

/// Control characters to spaces, runs of whitespace collapsed, trimmed.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `Name <address>` or just the address.
pub(crate) fn display(m: &Mailbox) -> String {
    match &m.name {
        Some(n) => format!("{n} <{}>", m.address),
        None => m.address.clone(),
    }
}
