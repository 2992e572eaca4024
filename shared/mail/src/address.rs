//! Addresses written wrongly by the sender's software: an RFC 2047 encoded word used as the
//! local part (`=?utf-8?Q?agent?=@example.com`, which RFC 2047 section 5 forbids inside an
//! addr-spec) is decoded before parsing, and an address whose local part or domain is empty is
//! never used as a contact's email.

use std::sync::LazyLock;

use regex::bytes::{Captures, Regex};

/// An encoded word directly followed by `@`: charset, `Q`/`B`, the encoded text.
#[allow(clippy::expect_used)] // literal pattern, exercised by the tests below
static WORD_AT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"=\?([A-Za-z0-9_\-:.]{1,40})(?:\*[A-Za-z\-]{1,20})?\?([QqBb])\?([^?\s]{0,200})\?=@")
        .expect("literal regex")
});

/// The message with every encoded word that stands right before an `@` in its header block
/// decoded, or `None` when there is none (the common case costs one substring search).
pub(crate) fn decode_encoded_local_parts(raw: &[u8]) -> Option<Vec<u8>> {
    let end = crate::headers::header_end(raw);
    let header = raw.get(..end)?;
    if !header.windows(3).any(|w| w == b"?=@") {
        return None;
    }
    let fixed = WORD_AT.replace_all(header, |c: &Captures<'_>| {
        let whole = c.get(0).map(|m| m.as_bytes()).unwrap_or_default();
        match decode_word(c) {
            Some(local) => format!("{local}@").into_bytes(),
            None => whole.to_vec(),
        }
    });
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(&fixed);
    out.extend_from_slice(raw.get(end..).unwrap_or_default());
    Some(out)
}

/// The decoded local part, when it is one: no space, no specials that would end an addr-spec.
fn decode_word(c: &Captures<'_>) -> Option<String> {
    let charset = c.get(1)?.as_bytes();
    let text = c.get(3)?.as_bytes();
    let bytes = if c.get(2)?.as_bytes().eq_ignore_ascii_case(b"b") {
        mail_parser::decoders::base64::base64_decode(text)?
    } else {
        q_decode(text)?
    };
    let encoding = encoding_rs::Encoding::for_label(charset).unwrap_or(encoding_rs::UTF_8);
    let (decoded, _, had_errors) = encoding.decode(&bytes);
    let bad = |ch: char| ch.is_whitespace() || ch.is_control() || "<>@,;:\"()[]\\".contains(ch);
    (!had_errors && !decoded.chars().any(bad)).then(|| decoded.into_owned())
}

/// RFC 2047 "Q" encoding: `_` is a space, `=XX` a byte.
fn q_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = std::str::from_utf8(text.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    Some(out)
}

/// Why a normalised address cannot be anyone's email: an `@` with nothing before or after it.
pub(crate) fn problem(address: &str) -> Option<&'static str> {
    let (local, domain) = address.rsplit_once('@')?;
    if local.is_empty() {
        Some("the sender address has an empty local part")
    } else if domain.is_empty() {
        Some("the sender address has an empty domain")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_local_parts_are_decoded() {
        for (input, expected) in [
            (
                "From: =?utf-8?Q?agent?=@example.com\r\n\r\nx",
                "From: agent@example.com\r\n\r\nx",
            ),
            (
                "From: A <=?UTF-8?B?YWdlbnQ=?=@example.com>\r\n\r\nx",
                "From: A <agent@example.com>\r\n\r\nx",
            ),
            (
                "To: =?iso-8859-1?Q?j=F6rg?=@example.de\r\n\r\nx",
                "To: jörg@example.de\r\n\r\nx",
            ),
            // An empty word leaves an empty local part, which `problem` reports.
            (
                "From: =?utf-8?Q??=@example.com\r\n\r\nx",
                "From: @example.com\r\n\r\nx",
            ),
            // A word that decodes to a space is not a local part: left alone.
            (
                "From: =?utf-8?Q?a_b?=@example.com\r\n\r\nx",
                "From: =?utf-8?Q?a_b?=@example.com\r\n\r\nx",
            ),
            // Only the header block is touched.
            ("From: a@example.com\r\n\r\n=?utf-8?Q?x?=@y", ""),
        ] {
            let out = decode_encoded_local_parts(input.as_bytes())
                .map(|v| String::from_utf8(v).expect("utf-8"))
                .unwrap_or_default();
            assert_eq!(out, expected, "{input:?}");
        }
    }

    #[test]
    fn empty_local_part_or_domain_is_a_problem() {
        for (address, expected) in [
            ("agent@example.com", false),
            ("@example.com", true),
            ("agent@", true),
            ("@", true),
            ("agent", false),
            ("", false),
        ] {
            assert_eq!(problem(address).is_some(), expected, "{address:?}");
        }
    }
}
