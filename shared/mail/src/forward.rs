//! Who a message is really from: the customer the case is for.
//!
//! Normally the sender. When one of the company's own addresses (the configured internal
//! domains) forwards a customer's mail by hand, the customer is the original sender, found in
//! order: a relay header naming the original author (Google Groups `X-Original-From`), a message
//! forwarded as an attachment, the first inline `From:` line of a forwarded or quoted block, a
//! single external `Reply-To`. Automatic forwarding (Gmail `X-Forwarded-For`, Exchange
//! redirects, `Resent-*`) keeps the original `From`, so the sender is already the customer.

use std::sync::LazyLock;

use regex::Regex;

use crate::headers::{Headers, normalise_address};
use crate::model::{InboundMessage, Mailbox};

#[allow(clippy::expect_used)] // literal patterns, exercised by the tests below
static FROM_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[\s>*]*(?:from|von|de|van|da|från|fra|od|expéditeur|remetente|差出人|发件人|寄件者|보낸 사람)\s*\*?\s*[:：]\s*\*?\s*(.+)$")
        .expect("literal regex")
});
#[allow(clippy::expect_used)] // literal pattern
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+'=\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
        .expect("literal regex")
});

/// How far into a body an inline forwarded header block is looked for.
const MAX_LINES: usize = 2000;

/// True when `address` is in one of `internal_domains` or a subdomain of one.
pub fn is_internal(address: &str, internal_domains: &[String]) -> bool {
    let Some((_, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let domain = domain.to_ascii_lowercase();
    internal_domains.iter().any(|d| {
        let d = d.trim().trim_start_matches('@').to_ascii_lowercase();
        !d.is_empty() && (domain == d || domain.ends_with(&format!(".{d}")))
    })
}

/// The customer of a parsed message (see the module docs for the order of evidence).
pub(crate) fn customer(
    msg: &InboundMessage,
    headers: &Headers,
    nested_from: Option<Mailbox>,
    internal: &[String],
) -> Option<Mailbox> {
    let from = msg.from.clone().or_else(|| msg.reply_to.first().cloned());
    let sender = from?;
    if !is_internal(&sender.address, internal) {
        return Some(sender);
    }
    let external = |m: &Mailbox| !m.address.is_empty() && !is_internal(&m.address, internal);
    let relayed = ["x-original-from", "x-original-sender"]
        .iter()
        .filter_map(|h| headers.get(h))
        .filter_map(mailbox_in_line)
        .find(|m| external(m));
    relayed
        .or_else(|| nested_from.filter(|m| external(m)))
        .or_else(|| {
            forwarded_senders(&msg.text)
                .into_iter()
                .find(|m| external(m))
        })
        .or_else(|| match msg.reply_to.as_slice() {
            [only] if external(only) => Some(only.clone()),
            _ => None,
        })
        .or(Some(sender))
}

/// Senders named by inline `From:` lines (in any of the supported languages, `*From:*` bold
/// and `> ` quoted forms included) of forwarded or quoted header blocks, in order.
pub fn forwarded_senders(text: &str) -> Vec<Mailbox> {
    text.lines()
        .take(MAX_LINES)
        .filter_map(|line| FROM_LINE.captures(line).and_then(|c| c.get(1)))
        .filter_map(|m| mailbox_in_line(m.as_str()))
        .collect()
}

/// A mailbox from free text such as `Ana Lima <ana@x.com>`, `"Lima, Ana" [mailto:ana@x.com]`
/// or `ana@x.com`. `None` when the text holds no address.
pub fn mailbox_in_line(line: &str) -> Option<Mailbox> {
    let found = ADDRESS.find(line)?;
    let address = normalise_address(found.as_str());
    let before = line.get(..found.start()).unwrap_or("");
    let name = before
        .trim_end()
        .trim_end_matches(['<', '[', '('])
        .trim_end()
        .trim_end_matches("mailto:")
        .trim_end_matches(['<', '[', '('])
        .trim()
        .trim_matches(|c| c == '"' || c == '\'' || c == '*')
        .trim();
    let name = (!name.is_empty() && !name.contains('@')).then(|| name.to_string());
    Some(Mailbox { name, address })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_forms() {
        let cases = [
            (
                "Ana Lima <ana@example.com>",
                Some("Ana Lima"),
                "ana@example.com",
            ),
            (
                "\"Lima, Ana\" [mailto:Ana@Example.com]",
                Some("Lima, Ana"),
                "ana@example.com",
            ),
            ("ana@example.com", None, "ana@example.com"),
            ("*Ana* <ana@example.com>", Some("Ana"), "ana@example.com"),
        ];
        for (input, name, address) in cases {
            let m = mailbox_in_line(input).expect(input);
            assert_eq!(m.name.as_deref(), name, "{input:?}");
            assert_eq!(m.address, address, "{input:?}");
        }
        assert!(mailbox_in_line("no address here").is_none());
    }

    #[test]
    fn inline_blocks_in_several_languages() {
        let cases = [
            "FYI\n\n---------- Forwarded message ---------\nFrom: Ana Lima <ana@example.com>\nDate: Mon",
            "Siehe unten\n\nVon: Ana Lima <ana@example.com>\nGesendet: Montag",
            "Voir ci-dessous\n\nDe : Ana Lima <ana@example.com>\nEnvoyé : lundi",
            "FYI\n\n*From:* Ana Lima <ana@example.com>\n*Sent:* Monday",
            "Begin forwarded message:\n\n> From: Ana Lima <ana@example.com>",
            "転送します\n\n差出人: Ana Lima <ana@example.com>\n送信日時: 2024年3月12日",
        ];
        for text in cases {
            let found = forwarded_senders(text);
            assert_eq!(
                found.first().map(|m| m.address.as_str()),
                Some("ana@example.com"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn internal_domains_match_subdomains_only() {
        let internal = vec!["acme.com".to_string()];
        assert!(is_internal("bob@acme.com", &internal));
        assert!(is_internal("bob@eu.acme.com", &internal));
        assert!(!is_internal("bob@notacme.com", &internal));
        assert!(!is_internal("bob", &internal));
    }
}
