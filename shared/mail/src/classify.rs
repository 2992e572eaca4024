//! Auto-reply, bounce and forwarding-confirmation detection, each with the reason it was chosen.
//!
//! Order matters: a Gmail forwarding confirmation comes from a no-reply sender and would look
//! automatic, yet it is the one message the operator needs, so it is checked first.
//! `X-Auto-Response-Suppress` is deliberately ignored: it asks others not to auto-reply to this
//! message and does not mark the message itself as automatic (helpdesks that filtered on it lost
//! real mail).

use std::sync::LazyLock;

use regex::Regex;

use crate::headers::Headers;
use crate::model::{Disposition, ForwardingConfirmation, Mailbox};

/// The outcome of classification.
pub(crate) struct Classified {
    pub disposition: Disposition,
    pub reason: String,
    pub confirmation: Option<ForwardingConfirmation>,
}

/// Patterns are literals in this file, each exercised by the tests below, so a bad one fails the
/// first test run rather than a handler.
fn re(pattern: &str) -> Regex {
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("literal regex in classify.rs")
}

static GMAIL_CODE_SUBJECT: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*\(#(\d{4,12})\)"));
static CODE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:confirmation code|código de confirmación|bestätigungscode|code de confirmation|確認コード|确认码)\s*[:：]\s*(\d{4,12})",
    )
});
static CONFIRM_URL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"https://(?:mail-settings\.google\.com|mail\.google\.com|isolated\.mail\.google\.com)/mail/[^\s<>\x22')\]]+",
    )
});
static CONFIRM_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)forwarding confirmation|confirmación de reenvío|weiterleitungsbestätigung|confirmation de transfert|conferma inoltro|bevestiging voor doorsturen|confirmação de encaminhamento|転送の確認|转发确认|轉寄確認",
    )
});
static OOO_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?ix)^\s*(?:
        auto(?:matic|matische|matisk|matiskt|mated)?[\s-]*(?:reply|response|antwort|svar|antwoord|respon[sd]e?) |
        autoreply | auto[\s-]?response |
        out\s+of\s+(?:the\s+)?office | ooo\b |
        abwesenheit(?:snotiz)? | automatische\s+antwort |
        r[ée]ponse\s+automatique | absen(?:ce|t)\s+du\s+bureau |
        respuesta\s+autom[áa]tica | fuera\s+de\s+la\s+oficina |
        resposta\s+autom[áa]tica | fora\s+do\s+escrit[óo]rio |
        automatisch\s+antwoord | niet\s+aanwezig |
        risposta\s+automatica | fuori\s+sede |
        automatiskt\s+svar | automatisk\s+svar | autosvar |
        odpowied[źz]\s+automatyczna | automatyczna\s+odpowied[źz] |
        自動応答 | 自動返信 | 不在通知 | 自动回复 | 自動回覆 |
        vacation\s+(?:reply|response|notice|auto) | on\s+vacation\b | away\s+from\s+(?:the\s+)?office
    )")
});
static OOO_ANYWHERE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\bis out of (?:the )?office\b|\bam out of (?:the )?office\b"));
static BOUNCE_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*(?:undeliver(?:ed|able)|delivery (?:status notification|failure|has failed)|mail delivery (?:failed|failure|subsystem)|returned mail|failure notice|non[- ]?delivery|unzustellbar|nicht zustellbar|non remis|no se puede entregar|onbestelbaar)",
    )
});

/// Classify a message from its top-level headers, first sender, subject, text body and root
/// content type (lower-case, with `; report-type=` appended when present).
pub(crate) fn classify(
    headers: &Headers,
    from: Option<&Mailbox>,
    subject: Option<&str>,
    text: &str,
    content_type: &str,
    internal_domains: &[String],
) -> Classified {
    let from_addr = from.map(|m| m.address.as_str()).unwrap_or("");
    let subject = subject.unwrap_or("");
    if let Some(c) = forwarding_confirmation(from_addr, subject, text) {
        return c;
    }
    if let Some(reason) = bounce(headers, from_addr, subject, content_type) {
        return plain(Disposition::Bounce, reason);
    }
    if let Some(reason) = auto_reply(headers, subject, internal_domains) {
        return plain(Disposition::AutoReply, reason);
    }
    plain(
        Disposition::Customer,
        "no automatic-mail signal: written by a person".into(),
    )
}

fn plain(disposition: Disposition, reason: String) -> Classified {
    Classified {
        disposition,
        reason,
        confirmation: None,
    }
}

fn forwarding_confirmation(from: &str, subject: &str, text: &str) -> Option<Classified> {
    let google_sender = from == "forwarding-noreply@google.com";
    let looks_like = CONFIRM_SUBJECT.is_match(subject) && CONFIRM_URL.is_match(text);
    if !google_sender && !looks_like {
        return None;
    }
    let code = GMAIL_CODE_SUBJECT
        .captures(subject)
        .or_else(|| CODE_LINE.captures(text))
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_string());
    let url = CONFIRM_URL
        .find(text)
        .map(|m| m.as_str().trim_end_matches(['.', ',']).to_string());
    let reason = if google_sender {
        "sender forwarding-noreply@google.com: Gmail forwarding confirmation".to_string()
    } else {
        "subject and link of a Gmail forwarding confirmation".to_string()
    };
    Some(Classified {
        disposition: Disposition::ForwardingConfirmation,
        reason,
        confirmation: Some(ForwardingConfirmation { code, url }),
    })
}

fn bounce(headers: &Headers, from: &str, subject: &str, content_type: &str) -> Option<String> {
    if content_type.starts_with("multipart/report")
        && content_type.contains("report-type=delivery-status")
    {
        return Some("content type multipart/report; report-type=delivery-status (delivery status notification)".into());
    }
    let local = from.split('@').next().unwrap_or("");
    if local == "mailer-daemon" || local == "postmaster" {
        return Some(format!("sender {local}: mail system notification"));
    }
    let null_sender = headers
        .get("return-path")
        .is_some_and(|rp| rp.trim() == "<>" || rp.to_ascii_lowercase().contains("mailer-daemon"));
    if null_sender && BOUNCE_SUBJECT.is_match(subject) {
        return Some("null return path and a delivery-failure subject".into());
    }
    if headers.has("x-failed-recipients") {
        return Some("header X-Failed-Recipients: delivery failure report".into());
    }
    None
}

fn auto_reply(headers: &Headers, subject: &str, internal_domains: &[String]) -> Option<String> {
    if let Some(v) = headers.get("auto-submitted") {
        let value = v
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !value.is_empty() && value != "no" {
            return Some(format!("header Auto-Submitted: {value} (RFC 3834)"));
        }
    }
    for name in [
        "x-autoreply",
        "x-autorespond",
        "x-auto-reply",
        "x-autoresponder",
    ] {
        if let Some(v) = headers.get(name) {
            let v = v.trim().to_ascii_lowercase();
            if v != "no" && v != "false" {
                return Some(format!("header {name}: {v}"));
            }
        }
    }
    if headers
        .get("x-autogenerated")
        .is_some_and(|v| v.to_ascii_lowercase().contains("reply"))
    {
        return Some("header X-Autogenerated: reply".into());
    }
    for name in ["precedence", "x-precedence"] {
        if let Some(v) = headers.get(name) {
            let v = v.trim().to_ascii_lowercase();
            // A support address run as the company's own group (Google Groups) relays customer
            // mail with `Precedence: list`; only someone else's list is automatic mail.
            if v == "list" && own_list(headers, internal_domains) {
                continue;
            }
            if matches!(
                v.as_str(),
                "bulk" | "junk" | "list" | "auto_reply" | "auto-reply"
            ) {
                return Some(format!("header {name}: {v}"));
            }
        }
    }
    if headers
        .get("x-ms-exchange-organization-autoreplyingmessage")
        .is_some()
        || headers.get("x-ms-exchange-inbox-rules-loop").is_some() && OOO_SUBJECT.is_match(subject)
    {
        return Some("Exchange automatic reply headers".into());
    }
    if OOO_SUBJECT.is_match(subject) {
        return Some(format!(
            "subject looks like an automatic reply: {}",
            short(subject)
        ));
    }
    if OOO_ANYWHERE.is_match(subject) {
        return Some(format!("subject says out of office: {}", short(subject)));
    }
    None
}

/// True when `List-Id` names a list in one of the company's domains (`<support.acme.com>`).
fn own_list(headers: &Headers, internal_domains: &[String]) -> bool {
    headers.get("list-id").is_some_and(|id| {
        let id = id
            .rsplit('<')
            .next()
            .unwrap_or(id)
            .trim_end_matches('>')
            .trim()
            .to_ascii_lowercase();
        internal_domains.iter().any(|d| {
            let d = d.trim().to_ascii_lowercase();
            !d.is_empty() && (id == d || id.ends_with(&format!(".{d}")))
        })
    })
}

fn short(s: &str) -> String {
    s.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify_h(
        headers: &[(&str, &str)],
        from: &str,
        subject: &str,
        text: &str,
        ct: &str,
    ) -> Classified {
        let mb = Mailbox {
            name: None,
            address: from.to_string(),
        };
        classify(
            &Headers::from_pairs(headers),
            Some(&mb),
            Some(subject),
            text,
            ct,
            &["acme.com".to_string()],
        )
    }

    #[test]
    fn table() {
        use Disposition::*;
        type Case<'a> = (
            &'a [(&'a str, &'a str)],
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            Disposition,
        );
        let cases: &[Case] = &[
            (
                &[],
                "ana@example.com",
                "Invoice question",
                "Hi",
                "text/plain",
                Customer,
            ),
            (
                &[("Auto-Submitted", "auto-replied")],
                "ana@example.com",
                "Re: Invoice",
                "",
                "text/plain",
                AutoReply,
            ),
            (
                &[("Auto-Submitted", "no")],
                "ana@example.com",
                "Invoice",
                "",
                "text/plain",
                Customer,
            ),
            (
                &[("Auto-Submitted", "auto-generated")],
                "ana@example.com",
                "Invoice",
                "",
                "text/plain",
                AutoReply,
            ),
            (
                &[("X-Autoreply", "yes")],
                "ana@example.com",
                "Hi",
                "",
                "text/plain",
                AutoReply,
            ),
            (
                &[("Precedence", "bulk")],
                "news@example.com",
                "News",
                "",
                "text/plain",
                AutoReply,
            ),
            (
                &[
                    ("Precedence", "list"),
                    ("List-Id", "Users <users.lists.example.org>"),
                ],
                "ana@example.com",
                "Digest",
                "",
                "text/plain",
                AutoReply,
            ),
            (
                &[("Precedence", "list"), ("List-Id", "<support.acme.com>")],
                "ana@example.com",
                "Invoice",
                "",
                "text/plain",
                Customer,
            ),
            (
                &[("X-Auto-Response-Suppress", "All")],
                "ana@example.com",
                "Invoice",
                "",
                "text/plain",
                Customer,
            ),
            (
                &[],
                "ana@example.com",
                "Out of Office: Re: Invoice",
                "",
                "text/plain",
                AutoReply,
            ),
            (
                &[],
                "ana@example.com",
                "Automatic reply: Invoice",
                "",
                "text/plain",
                AutoReply,
            ),
            (
                &[],
                "ana@example.com",
                "Automatische Antwort: Rechnung",
                "",
                "text/plain",
                AutoReply,
            ),
            (
                &[],
                "ana@example.com",
                "Réponse automatique : Facture",
                "",
                "text/plain",
                AutoReply,
            ),
            (
                &[],
                "ana@example.com",
                "Respuesta automática: Factura",
                "",
                "text/plain",
                AutoReply,
            ),
            (
                &[],
                "ana@example.com",
                "自動応答: 請求書",
                "",
                "text/plain",
                AutoReply,
            ),
            (
                &[],
                "ana@example.com",
                "Ana is out of the office",
                "",
                "text/plain",
                AutoReply,
            ),
            (
                &[],
                "ana@example.com",
                "Question about out of office hours",
                "",
                "text/plain",
                Customer,
            ),
            (
                &[],
                "ana@example.com",
                "Absences in our team calendar",
                "",
                "text/plain",
                Customer,
            ),
            (
                &[],
                "ana@example.com",
                "Vacation request policy",
                "",
                "text/plain",
                Customer,
            ),
            (
                &[],
                "ana@example.com",
                "Absence du bureau",
                "",
                "text/plain",
                AutoReply,
            ),
            (
                &[],
                "mailer-daemon@mx.example.com",
                "Undelivered Mail Returned to Sender",
                "",
                "text/plain",
                Bounce,
            ),
            (
                &[],
                "postmaster@example.com",
                "Delivery Status Notification (Failure)",
                "",
                "text/plain",
                Bounce,
            ),
            (
                &[],
                "x@example.com",
                "Report",
                "",
                "multipart/report; report-type=delivery-status",
                Bounce,
            ),
            (
                &[("Return-Path", "<>")],
                "x@example.com",
                "Undeliverable: Invoice",
                "",
                "text/plain",
                Bounce,
            ),
            (
                &[],
                "forwarding-noreply@google.com",
                "(#123456789) Gmail Forwarding Confirmation - Receive Mail from x@gmail.com",
                "Confirmation code: 123456789\nhttps://mail-settings.google.com/mail/vf-abc",
                "text/plain",
                ForwardingConfirmation,
            ),
        ];
        for (headers, from, subject, text, ct, expected) in cases {
            let got = classify_h(headers, from, subject, text, ct);
            assert_eq!(
                got.disposition, *expected,
                "{subject:?} {headers:?}: {}",
                got.reason
            );
            assert!(!got.reason.is_empty());
        }
    }

    #[test]
    fn gmail_confirmation_captures_code_and_link() {
        let got = classify_h(
            &[],
            "forwarding-noreply@google.com",
            "(#987654321) Gmail Forwarding Confirmation - Receive Mail from owner@gmail.com",
            "To allow, click:\nhttps://mail-settings.google.com/mail/vf-%5BANGjdJ_x%5D-abc\n\nConfirmation code: 987654321\n",
            "text/plain",
        );
        let c = got.confirmation.expect("confirmation");
        assert_eq!(c.code.as_deref(), Some("987654321"));
        assert_eq!(
            c.url.as_deref(),
            Some("https://mail-settings.google.com/mail/vf-%5BANGjdJ_x%5D-abc")
        );
    }

    #[test]
    fn localized_confirmation_without_google_sender_in_from() {
        let got = classify_h(
            &[],
            "someone@relay.example",
            "(#111222333) Confirmación de reenvío de Gmail - Recibir correo de x@gmail.com",
            "Código de confirmación: 111222333 https://mail-settings.google.com/mail/vf-xyz",
            "text/plain",
        );
        assert_eq!(got.disposition, Disposition::ForwardingConfirmation);
        assert_eq!(
            got.confirmation.and_then(|c| c.code).as_deref(),
            Some("111222333")
        );
    }
}
