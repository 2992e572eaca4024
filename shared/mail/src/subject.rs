//! Thread subjects: reply and forward prefixes removed so every message of a thread shares one key.

use std::sync::LazyLock;

use regex::Regex;

#[allow(clippy::expect_used)] // literal pattern, exercised by the tests below
static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?:\[[^\]]{0,40}\]\s*)?(?:re|r|res|rif|aw|wg|sv|vs|vl|fw|fwd|fwdg|tr|rv|enc|antw|antwort|doorst|réf|ref|odp|pd|ynt|atb|vá|bls|ats|απ|πρθ|回复|回覆|转发|轉寄|答复|転送|返信)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*",
    )
    .expect("literal regex")
});

/// The subject without reply/forward prefixes in many languages (`Re:`, `RE:`, `Fwd:`, `AW:`,
/// `WG:`, `SV:`, `VS:`, `Antw:`, `Réf. :`, `TR:`, `RV:`, `Odp:`, `回复：`, `転送:`, numbered
/// `Re[2]:`), repeated and mixed, `[list]` tags before them, and a trailing `(fwd)`; whitespace
/// collapsed. Case is kept for display; compare with [`subject_key`].
pub fn thread_subject(subject: &str) -> String {
    let mut s = subject
        .replace("Réf. :", "Réf:")
        .replace("Réf.\u{a0}:", "Réf:");
    loop {
        let before = s.len();
        s = mail_parser::parsers::fields::thread::thread_name(&s).to_string();
        if let Some(m) = PREFIX.find(&s) {
            s = s[m.end()..].to_string();
        }
        if s.len() == before {
            break;
        }
    }
    let s = s.trim();
    let s = s.strip_suffix("(fwd)").unwrap_or(s);
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// True when the subject marks a forward (`Fwd:`, `FW:`, `WG:`, `TR:`, `RV:`, `VS:`, `Doorst:`,
/// `Enc:`, `I:`, `PD:`, `转发:`, `轉寄:`, `転送:`), possibly after `[list]` tags.
pub fn is_forward(subject: &str) -> bool {
    let s = subject.trim_start();
    let s = match s.strip_prefix('[') {
        Some(rest) => rest
            .split_once(']')
            .map(|(_, r)| r.trim_start())
            .unwrap_or(s),
        None => s,
    };
    let head: String = s.chars().take(12).collect::<String>().to_lowercase();
    let Some((prefix, _)) = head.split_once([':', '：']) else {
        return false;
    };
    matches!(
        prefix.trim(),
        "fwd"
            | "fw"
            | "wg"
            | "tr"
            | "rv"
            | "vs"
            | "doorst"
            | "enc"
            | "i"
            | "pd"
            | "vl"
            | "fs"
            | "转发"
            | "轉寄"
            | "転送"
    )
}

/// Lower-case key of a thread subject, for matching two messages to one thread.
/// Our session tokens (`[mc-` + 16 hex digits + `]`) are left out: a reply to our mail keeps
/// the token in its subject, and it is still the same subject.
pub fn subject_key(subject: &str) -> String {
    let mut out = String::with_capacity(subject.len());
    let mut rest = subject;
    while let Some(i) = rest.find("[mc-") {
        let tail = &rest[i + 4..];
        let hex = tail
            .chars()
            .take(16)
            .filter(char::is_ascii_hexdigit)
            .count();
        if hex == 16 && tail.as_bytes().get(16) == Some(&b']') {
            out.push_str(&rest[..i]);
            rest = &tail[17..];
        } else {
            out.push_str(&rest[..i + 4]);
            rest = tail;
        }
    }
    out.push_str(rest);
    let joined = out.split_whitespace().collect::<Vec<_>>().join(" ");
    thread_subject(&joined).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_leave_our_token_out() {
        assert_eq!(
            subject_key("Re: Pump broken [mc-0123456789abcdef]"),
            subject_key("Pump broken")
        );
        assert_eq!(subject_key("[mc-0123456789abcdef] Re: Pump"), "pump");
        assert_eq!(subject_key("Re: Pump [mc-xyz]"), "pump [mc-xyz]");
        assert_eq!(
            subject_key("Été [mc-0123456789abcdeф]"),
            "été [mc-0123456789abcdeф]"
        );
    }

    #[test]
    fn prefixes() {
        let cases = [
            ("Invoice 42", "Invoice 42"),
            ("Re: Invoice 42", "Invoice 42"),
            ("RE: RE: Invoice 42", "Invoice 42"),
            ("Fwd: Re: Invoice 42", "Invoice 42"),
            ("AW: WG: Rechnung 42", "Rechnung 42"),
            ("SV: VS: Lasku", "Lasku"),
            ("Antw: Factuur", "Factuur"),
            ("Réf. : Facture", "Facture"),
            ("TR: Facture", "Facture"),
            ("RV: Factura", "Factura"),
            ("Odp: Faktura", "Faktura"),
            ("回复：发票", "发票"),
            ("Re[2]: Invoice", "Invoice"),
            ("[support] Re: Invoice", "Invoice"),
            ("Invoice (fwd)", "Invoice"),
            ("Re:   Invoice    42  ", "Invoice 42"),
            ("Regarding the invoice", "Regarding the invoice"),
            ("Re:", ""),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(thread_subject(input), expected, "{input:?}");
        }
        assert_eq!(subject_key("RE: INVOICE"), "invoice");
    }
}
