//! Outbound mail: a reply in the customer's thread as raw RFC 5322 bytes, safe against header
//! injection. Every header value is built from typed parts: control characters (CR, LF, NUL…)
//! in names and subjects become spaces, non-ASCII text is RFC 2047 encoded in words of at most
//! 64 characters, long headers are folded under 78 characters, addresses that are not plain
//! `local@domain` are refused, and bodies are quoted-printable UTF-8 (plain text plus a simple
//! HTML alternative).
//!
//! ```
//! use mail::compose::{Outgoing, compose};
//! use mail::Mailbox;
//! let out = Outgoing {
//!     from: Mailbox { name: Some("Acme Support".into()), address: "support@acme.com".into() },
//!     to: Mailbox { name: Some("Zoë\r\nBcc: evil@x.com".into()), address: "zoe@client.example".into() },
//!     subject: "Re: Order 1042 [mc-0123456789abcdef]".into(),
//!     message_id: "abc@acme.com".into(),
//!     in_reply_to: Some("m1@client.example".into()),
//!     references: vec!["m1@client.example".into()],
//!     date: 1_710_238_500,
//!     text: "Hello Zoë,\nwe are on it.".into(),
//!     auto_submitted: false,
//!     extra_headers: vec![],
//!     cc: vec![],
//! };
//! let raw = String::from_utf8(compose(&out).unwrap()).unwrap();
//! assert!(!raw.contains("\r\nBcc:"));
//! let back = mail::parse(raw.as_bytes(), &mail::ParseOptions::default());
//! assert_eq!(back.to[0].name.as_deref(), Some("Zoë Bcc: evil@x.com"));
//! assert_eq!(back.in_reply_to.as_deref(), Some("m1@client.example"));
//! ```

use crate::Mailbox;
use crate::headers::clean;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Our support address (and display name).
    pub from: Mailbox,
    /// The customer.
    pub to: Mailbox,
    /// The other people on the thread (addresses that are not plain `local@domain` are left
    /// out, never written).
    pub cc: Vec<Mailbox>,
    /// Subject, decoded; control characters are removed.
    pub subject: String,
    /// Our Message-ID without angle brackets (`uuid@domain`).
    pub message_id: String,
    /// The message answered.
    pub in_reply_to: Option<String>,
    /// The thread's ids, oldest first (the last ten are kept).
    pub references: Vec<String>,
    /// Seconds since the epoch.
    pub date: i64,
    /// Plain text body; an HTML alternative is derived from it.
    pub text: String,
    /// `Auto-Submitted: auto-replied` (RFC 3834), for automatic mail such as acknowledgements.
    pub auto_submitted: bool,
    /// Extra headers as (name, value); names must be `X-` tokens, values are cleaned.
    pub extra_headers: Vec<(String, String)>,
}

/// Why a message cannot be composed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposeError {
    /// An address is not a plain `local@domain`.
    BadAddress(String),
    /// A Message-ID is not `left@right` without spaces or brackets.
    BadMessageId(String),
    /// An extra header's name is not an `X-` token.
    BadHeaderName(String),
}

impl std::fmt::Display for ComposeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ComposeError::BadAddress(a) => write!(f, "not a plain email address: {a:?}"),
            ComposeError::BadMessageId(a) => write!(f, "not a valid Message-ID: {a:?}"),
            ComposeError::BadHeaderName(a) => write!(f, "not an X- header name: {a:?}"),
        }
    }
}

impl std::error::Error for ComposeError {}

/// True for `local@domain` made of printable ASCII without spaces, quotes, brackets or commas.
pub fn is_plain_address(a: &str) -> bool {
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !b"<>()[]\\,;:\"@".contains(&b))
    };
    match a.split_once('@') {
        Some((local, domain)) => {
            ok(local) && ok(domain) && (domain.contains('.') || domain == "localhost")
        }
        None => false,
    }
}

fn check_id(id: &str) -> Result<&str, ComposeError> {
    let valid = id
        .split_once('@')
        .is_some_and(|(l, r)| !l.is_empty() && !r.is_empty())
        && id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    if valid {
        Ok(id)
    } else {
        Err(ComposeError::BadMessageId(id.to_string()))
    }
}

/// `Re: <subject>` unless it already is a reply, cleaned.
pub fn reply_subject(subject: &str) -> String {
    let s = clean(subject);
    let lower = s.to_lowercase();
    if lower.starts_with("re:") || lower.starts_with("re :") {
        s
    } else if s.is_empty() {
        "Re: your message".into()
    } else {
        format!("Re: {s}")
    }
}

/// Compose the raw message (CRLF line ends, every line under 78 characters).
pub fn compose(m: &Outgoing) -> Result<Vec<u8>, ComposeError> {
    for a in [&m.from.address, &m.to.address] {
        if !is_plain_address(a) {
            return Err(ComposeError::BadAddress(a.clone()));
        }
    }
    let mut h = String::new();
    // `=_` never occurs in quoted-printable output (`=` is always `=3D`, escapes are hex), so
    // no line of the text can be read as the boundary (RFC 2045 6.7, note 5).
    let boundary = format!("=_mc-alt-{}", &fnv1a_hex(&m.message_id)[..16]);
    header(&mut h, "From", &mailbox(&m.from));
    header(&mut h, "To", &mailbox(&m.to));
    let cc: Vec<String> =
        m.cc.iter()
            .filter(|c| is_plain_address(&c.address) && c.address != m.to.address)
            .map(mailbox)
            .collect();
    if !cc.is_empty() {
        header(&mut h, "Cc", &cc.join(", "));
    }
    header(&mut h, "Subject", &encode_text(&clean(&m.subject)));
    header(&mut h, "Date", &crate::headers::rfc822_date(m.date));
    header(
        &mut h,
        "Message-ID",
        &format!("<{}>", check_id(&m.message_id)?),
    );
    if let Some(p) = &m.in_reply_to {
        header(&mut h, "In-Reply-To", &format!("<{}>", check_id(p)?));
    }
    let refs: Vec<String> = m
        .references
        .iter()
        .rev()
        .take(10)
        .rev()
        .map(|r| check_id(r).map(|r| format!("<{r}>")))
        .collect::<Result<_, _>>()?;
    if !refs.is_empty() {
        header(&mut h, "References", &refs.join(" "));
    }
    if m.auto_submitted {
        header(&mut h, "Auto-Submitted", "auto-replied");
    }
    for (name, value) in &m.extra_headers {
        // `get`, not `[..2]`: a name starting with a multi-byte character must be refused,
        // not panic (found by fuzz/compose).
        let token = name.len() > 2
            && name.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("x-"))
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !token {
            return Err(ComposeError::BadHeaderName(name.clone()));
        }
        header(&mut h, name, &encode_text(&clean(value)));
    }
    header(&mut h, "MIME-Version", "1.0");
    header(
        &mut h,
        "Content-Type",
        &format!("multipart/alternative; boundary=\"{boundary}\""),
    );
    let text = m.text.replace("\r\n", "\n");
    let html = format!(
        "<!DOCTYPE html><html><body><div style=\"font-family:sans-serif\">{}</div></body></html>",
        text.split("\n\n")
            .map(|p| format!("<p>{}</p>", escape_html(p).replace('\n', "<br>\n")))
            .collect::<String>()
    );
    let mut out = h;
    out.push_str("\r\n");
    for (ctype, body) in [("text/plain", text.as_str()), ("text/html", html.as_str())] {
        out.push_str(&format!(
            "--{boundary}\r\nContent-Type: {ctype}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        ));
        out.push_str(&quoted_printable(body));
        out.push_str("\r\n");
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    Ok(out.into_bytes())
}

fn mailbox(m: &Mailbox) -> String {
    match m.name.as_deref().map(clean).filter(|n| !n.is_empty()) {
        Some(n) if n.is_ascii() => format!("{} <{}>", quote_phrase(&n), m.address),
        Some(n) => format!("{} <{}>", encode_text(&n), m.address),
        None => m.address.clone(),
    }
}

/// A display name as an RFC 5322 quoted string when it holds specials.
fn quote_phrase(n: &str) -> String {
    if n.chars()
        .all(|c| c.is_ascii_alphanumeric() || " !#$%&'*+-/=?^_`{|}~".contains(c))
    {
        n.to_string()
    } else {
        format!("\"{}\"", n.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// ASCII text as is; otherwise RFC 2047 `=?UTF-8?B?…?=` words of at most 75 characters, split
/// on character boundaries, separated by folding whitespace.
pub fn encode_text(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    // 39 bytes of UTF-8 -> 52 base64 chars -> a 64-character word, so `Subject: <word>` fits
    // a 78-character line (RFC 2047 allows up to 75 per word).
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in s.chars() {
        if chunk.len() + c.len_utf8() > 39 {
            words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
    }
    words.join(" ")
}

/// `Name: value`, folded at spaces so lines stay under 78 characters where possible.
fn header(out: &mut String, name: &str, value: &str) {
    let mut line = format!("{name}:");
    for word in value.split(' ') {
        if line.len() + 1 + word.len() > 76 && line.trim_end().contains(' ') {
            out.push_str(&line);
            out.push_str("\r\n");
            line = String::new();
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push_str("\r\n");
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Quoted-printable (RFC 2045) with CRLF line ends and soft breaks under 76 characters.
pub fn quoted_printable(text: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        let bytes = line.as_bytes();
        let mut width = 0;
        for (j, &b) in bytes.iter().enumerate() {
            let last = j + 1 == bytes.len();
            let literal = (b == b' ' || b == b'\t') && !last
                || (b.is_ascii_graphic() && b != b'=')
                || (b == b'.' && !(j == 0 && last));
            let piece = if literal {
                (b as char).to_string()
            } else {
                format!("={b:02X}")
            };
            if width + piece.len() > 75 {
                out.push_str("=\r\n");
                width = 0;
            }
            width += piece.len();
            out.push_str(&piece);
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(T[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// FNV-1a 64 of `s` in hex (16 digits): short, stable and not cryptographic, for MIME
/// boundaries only (ids and keys use `store::ids::sha256_hex`).
fn fnv1a_hex(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ParseOptions, parse};

    fn sample() -> Outgoing {
        Outgoing {
            from: Mailbox {
                name: Some("Acme Support".into()),
                address: "support@acme.com".into(),
            },
            to: Mailbox {
                name: Some("Ana Lima".into()),
                address: "ana@client.example".into(),
            },
            subject: "Re: Order 1042 arrived damaged [mc-0123456789abcdef]".into(),
            message_id: "0f1e2d3c@acme.com".into(),
            in_reply_to: Some("m2@client.example".into()),
            references: vec!["m1@client.example".into(), "m2@client.example".into()],
            date: 1_710_238_500,
            text: "Hello Ana,\n\nwe are sending a new one.\n\nAcme Support".into(),
            auto_submitted: false,
            extra_headers: vec![],
            cc: vec![],
        }
    }

    fn roundtrip(m: &Outgoing) -> (String, crate::InboundMessage) {
        let raw = compose(m).expect("composes");
        let text = String::from_utf8(raw.clone()).expect("ascii");
        (text, parse(&raw, &ParseOptions::default()))
    }

    #[test]
    fn threading_headers_and_bodies_round_trip() {
        let (raw, back) = roundtrip(&sample());
        assert_eq!(back.message_id.as_deref(), Some("0f1e2d3c@acme.com"));
        assert_eq!(back.in_reply_to.as_deref(), Some("m2@client.example"));
        assert_eq!(
            back.references,
            vec![
                "m1@client.example".to_string(),
                "m2@client.example".to_string()
            ]
        );
        assert_eq!(
            back.subject.as_deref(),
            Some("Re: Order 1042 arrived damaged [mc-0123456789abcdef]")
        );
        assert!(
            back.text.contains("we are sending a new one."),
            "{}",
            back.text
        );
        assert!(
            raw.contains("Date: Tue, 12 Mar 2024 10:15:00 +0000"),
            "{raw}"
        );
        assert!(raw.contains("text/html"));
        assert!(!raw.contains("Auto-Submitted"));
    }

    #[test]
    fn non_ascii_names_and_subjects_are_encoded_words() {
        let mut m = sample();
        m.to.name = Some("Zoë Ñúñez-Łukasz 山田太郎".into());
        m.subject = format!("Re: {}", "Rückerstattung für Bestellung 山田 ".repeat(6));
        m.text = "Grüße — ça va? 日本語のテキスト".into();
        let (raw, back) = roundtrip(&m);
        assert!(raw.is_ascii());
        assert!(raw.contains("=?UTF-8?B?"));
        assert_eq!(
            back.to[0].name.as_deref(),
            Some("Zoë Ñúñez-Łukasz 山田太郎")
        );
        assert_eq!(back.subject.as_deref(), Some(clean(&m.subject).as_str()));
        assert!(back.text.contains("日本語のテキスト"), "{}", back.text);
        for line in raw.split("\r\n") {
            assert!(line.len() <= 78, "line too long: {line}");
        }
    }

    #[test]
    fn crlf_in_names_and_subjects_cannot_inject_headers() {
        let mut m = sample();
        m.to.name = Some("Ana\r\nBcc: victim@evil.example".into());
        m.subject = "Hi\r\nBcc: victim@evil.example\r\n\r\nbody".into();
        m.extra_headers = vec![("X-Mailcase-Session".into(), "a\nBcc: x@y.z".into())];
        let (raw, back) = roundtrip(&m);
        let headers = raw.split("\r\n\r\n").next().unwrap_or("");
        assert!(
            !headers
                .lines()
                .any(|l| l.to_lowercase().starts_with("bcc:")),
            "{headers}"
        );
        assert!(back.cc.is_empty());
        assert_eq!(
            back.subject.as_deref(),
            Some("Hi Bcc: victim@evil.example body")
        );
        assert_eq!(back.to.len(), 1);
    }

    #[test]
    fn bad_addresses_ids_and_header_names_are_refused() {
        for bad in [
            "a@b.com\r\nBcc: c@d.com",
            "a b@c.com",
            "<a@b.com>",
            "a@b.com, c@d.com",
            "nobody",
        ] {
            let mut m = sample();
            m.to.address = bad.into();
            assert_eq!(compose(&m), Err(ComposeError::BadAddress(bad.into())));
        }
        let mut m = sample();
        m.in_reply_to = Some("x>\r\nBcc: y@z".into());
        assert!(matches!(compose(&m), Err(ComposeError::BadMessageId(_))));
        let mut m = sample();
        m.extra_headers = vec![("Bcc".into(), "x@y.z".into())];
        assert!(matches!(compose(&m), Err(ComposeError::BadHeaderName(_))));
    }

    #[test]
    fn quoted_printable_keeps_lines_short_and_round_trips() {
        let long = format!("{} =end. \n.\nTrailing space ", "é".repeat(120));
        let qp = quoted_printable(&long);
        assert!(qp.split("\r\n").all(|l| l.len() <= 76), "{qp}");
        let mut m = sample();
        m.text = long.clone();
        let (_, back) = roundtrip(&m);
        assert!(back.text.contains(&"é".repeat(120)), "{}", back.text);
        assert!(back.text.contains("=end."));
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
}
