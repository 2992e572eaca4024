//! The text body of a parsed message and how its reply text is taken: which parts are the
//! body (RFC 8621 textBody), and which stripping rules each part gets.

use mail_parser::{Message, MessagePart, PartType};

use std::borrow::Cow;

use mail_parser::Encoding;

use crate::strip;

/// What kind of body a message has; HTML is kept so quotes can be cut in the markup.
pub(crate) enum BodyKind {
    Plain,
    Html(String),
    /// Text and HTML parts one after the other (`multipart/mixed`, not alternatives): each is
    /// part of the body, in order, and each is stripped by its own rules.
    Sequence(Vec<Piece>),
    None,
}

/// One part of a [`BodyKind::Sequence`]: its text, and the HTML it was converted from.
pub(crate) enum Piece {
    Plain(String),
    Html(String, String),
}

impl BodyKind {
    /// The reply text of a body whose whole text is `text`; a forward keeps its forwarded
    /// block.
    pub(crate) fn reply(&self, text: &str, forwarded: bool) -> String {
        let plain = |t: &str| {
            if forwarded {
                strip::forward_text(t)
            } else {
                strip::reply_text(t)
            }
        };
        match self {
            BodyKind::Plain => plain(text),
            BodyKind::Html(html) => strip::reply_html(html),
            BodyKind::Sequence(pieces) => pieces
                .iter()
                .map(|p| match p {
                    Piece::Plain(t) => plain(t),
                    Piece::Html(h, t) => {
                        let reply = strip::reply_html(h);
                        // Never longer than the part's text, so the whole reply never is
                        // longer than the whole text.
                        if reply.len() <= t.len() {
                            reply
                        } else {
                            plain(t)
                        }
                    }
                })
                .filter(|r| !r.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n"),
            BodyKind::None => String::new(),
        }
    }
}

/// The text body, as RFC 8621 defines textBody: the text/plain parts, with HTML converted
/// where the message has HTML parts in a row with them (`multipart/mixed` holding HTML then
/// text); otherwise the HTML converted to text. Returns the HTML too so quotes can be cut
/// before conversion.
pub(crate) fn body_text(msg: &Message<'_>) -> (String, BodyKind) {
    let parts: Vec<&MessagePart<'_>> = msg
        .text_body
        .iter()
        .filter_map(|&id| msg.parts.get(id as usize))
        .filter(|p| matches!(p.body, PartType::Text(_) | PartType::Html(_)))
        .collect();
    let has_plain = parts.iter().any(|p| matches!(p.body, PartType::Text(_)));
    let has_html = parts.iter().any(|p| matches!(p.body, PartType::Html(_)));
    if has_plain && has_html {
        let mut texts = Vec::new();
        let mut kinds = Vec::new();
        for p in parts {
            match &p.body {
                PartType::Text(t) => {
                    let t = normalise_text(&part_text(msg, p, t));
                    texts.push(t.clone());
                    kinds.push(Piece::Plain(t));
                }
                PartType::Html(h) => {
                    let t = normalise_text(&mail_parser::decoders::html::html_to_text(h));
                    texts.push(t.clone());
                    kinds.push(Piece::Html(h.to_string(), t));
                }
                _ => {}
            }
        }
        let texts: Vec<String> = texts.into_iter().filter(|t| !t.is_empty()).collect();
        return (texts.join("\n\n"), BodyKind::Sequence(kinds));
    }
    if has_plain {
        let plain: Vec<String> = parts
            .iter()
            .filter_map(|p| match &p.body {
                PartType::Text(t) => Some(part_text(msg, p, t).into_owned()),
                _ => None,
            })
            .collect();
        return (normalise_text(&plain.join("\n")), BodyKind::Plain);
    }
    let html: Vec<&str> = msg
        .html_body
        .iter()
        .filter_map(|&id| msg.parts.get(id as usize))
        .filter_map(|p| match &p.body {
            PartType::Html(t) => Some(t.as_ref()),
            _ => None,
        })
        .collect();
    if html.is_empty() {
        return (String::new(), BodyKind::None);
    }
    let html = html.join("\n");
    let text = normalise_text(&mail_parser::decoders::html::html_to_text(&html));
    (text, BodyKind::Html(html))
}

/// LF line ends, no control characters but tab, no trailing blanks.
pub(crate) fn normalise_text(s: &str) -> String {
    // One pass: CRLF and lone CR become LF, other control characters (C0, DEL, C1) except
    // tab go; text without any of them (most) is copied as it is.
    let clean = |c: char| c == '\n' || c == '\t' || !c.is_control();
    if s.chars().all(|c| c != '\r' && clean(c)) {
        return s.trim_end().to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            chars.next_if_eq(&'\n');
            out.push('\n');
        } else if clean(c) {
            out.push(c);
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// The text of a text part. When decoding with its declared charset produced replacement
/// characters and the part's bytes are valid UTF-8 (a UTF-8 body labelled ISO-2022-JP or
/// US-ASCII by the sender's software), the UTF-8 reading is the text.
pub(crate) fn part_text<'a>(
    msg: &Message<'_>,
    part: &MessagePart<'_>,
    decoded: &'a str,
) -> Cow<'a, str> {
    if !decoded.contains('\u{FFFD}') {
        return Cow::Borrowed(decoded);
    }
    let raw = msg.raw_message();
    let Some(body) = raw.get(part.offset_body as usize..part.offset_end as usize) else {
        return Cow::Borrowed(decoded);
    };
    let bytes = match part.encoding {
        Encoding::None => Some(body.to_vec()),
        Encoding::QuotedPrintable => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(body)
        }
        Encoding::Base64 => mail_parser::decoders::base64::base64_decode(body),
    };
    match bytes.map(String::from_utf8) {
        Some(Ok(text)) if !text.contains('\u{FFFD}') => Cow::Owned(text),
        _ => Cow::Borrowed(decoded),
    }
}
