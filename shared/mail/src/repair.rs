//! Repairs for broken mail that `mail-parser` 0.11 reads without the body: each is tried only
//! when the normal reading lost something, so well-formed mail never pays for it.

use mail_parser::MessageParser;

use crate::body::{BodyKind, body_text, normalise_text};
use crate::headers::header_end;
use crate::model::Attachment;
use crate::parts::attachments;

/// Header bytes that are not UTF-8 (raw 8-bit Latin-1 from old clients) decode to U+FFFD in
/// mail-parser. Transcode the header block from the message's declared charset, or
/// windows-1252 (the WHATWG reading of ISO-8859-1), to UTF-8 before parsing.
pub(crate) fn transcode_8bit_headers(raw: &[u8]) -> Option<Vec<u8>> {
    let end = header_end(raw);
    let header = raw.get(..end)?;
    if header.is_ascii() || std::str::from_utf8(header).is_ok() {
        return None;
    }
    let encoding = declared_charset(header)
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
        .filter(|e| *e != encoding_rs::UTF_8)
        .unwrap_or(encoding_rs::WINDOWS_1252);
    let (decoded, _, _) = encoding.decode(header);
    let mut out = Vec::with_capacity(raw.len() + decoded.len());
    out.extend_from_slice(decoded.as_bytes());
    out.extend_from_slice(raw.get(end..).unwrap_or_default());
    Some(out)
}

fn declared_charset(header: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(header).to_ascii_lowercase();
    let at = text.find("charset=")? + "charset=".len();
    let value: String = text
        .get(at..)?
        .trim_start_matches('"')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    (!value.is_empty()).then_some(value)
}

/// When a header block runs straight into body text, return the message with a blank line put
/// before the first line that is neither a header field nor a folded continuation.
pub(crate) fn insert_missing_blank_line(raw: &[u8]) -> Option<Vec<u8>> {
    let mut offset = 0;
    let mut seen_header = false;
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let trimmed = line.strip_suffix(b"\n").unwrap_or(line);
        let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
        if trimmed.is_empty() {
            return None; // there is a separator; the body was lost for another reason
        }
        let continuation = seen_header && matches!(trimmed.first(), Some(b' ' | b'\t'));
        if !continuation && !is_header_line(trimmed) {
            if !seen_header || offset == 0 {
                return None;
            }
            let mut out = Vec::with_capacity(raw.len() + 2);
            out.extend_from_slice(raw.get(..offset)?);
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(raw.get(offset..)?);
            return Some(out);
        }
        seen_header = true;
        offset += line.len();
    }
    None
}

/// True when the first line of `raw` looks like a header field.
pub(crate) fn starts_with_header(raw: &[u8]) -> bool {
    let first = raw.split(|&b| b == b'\n').next().unwrap_or_default();
    is_header_line(first.strip_suffix(b"\r").unwrap_or(first))
}

/// RFC 5322 field name (printable ASCII except `:`) followed by a colon.
fn is_header_line(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(0) | None => false,
        Some(colon) => line
            .get(..colon)
            .is_some_and(|name| name.iter().all(|&b| (33..=126).contains(&b))),
    }
}

/// The message had no readable body. mail-parser 0.11 turns a text part whose closing boundary
/// is missing into an unnamed attachment, and a multipart without a `boundary` parameter into
/// one opaque part. Take the first unnamed text part as the body, or re-read an opaque
/// multipart with the boundary its first delimiter line shows. Returns the body and any
/// attachments recovered from the re-read; the part used as the body is removed.
pub(crate) fn body_from_attachments(
    attachments: &mut Vec<Attachment>,
) -> Option<(String, BodyKind, Vec<Attachment>)> {
    let text_part = attachments
        .iter()
        .position(|a| a.content_type.starts_with("text/plain") && a.filename.starts_with("part-"));
    if let Some(i) = text_part {
        let part = attachments.remove(i);
        let text = normalise_text(&String::from_utf8_lossy(&part.content));
        return Some((text, BodyKind::Plain, Vec::new()));
    }
    let multi = attachments
        .iter()
        .position(|a| a.content_type.starts_with("multipart/"))?;
    let found = match guess_boundary(&attachments[multi].content) {
        Some(boundary) => reread_multipart(&attachments[multi], &boundary)?,
        // No delimiter line at all: the declared boundary never occurs.
        None => (
            undelimited_text(&attachments[multi].content)?,
            BodyKind::Plain,
            Vec::new(),
        ),
    };
    attachments.remove(multi);
    Some(found)
}

/// An opaque multipart read again with the boundary its first delimiter line shows.
fn reread_multipart(
    part: &Attachment,
    boundary: &str,
) -> Option<(String, BodyKind, Vec<Attachment>)> {
    let mut synthetic = format!(
        "Content-Type: {}; boundary=\"{boundary}\"\r\n\r\n",
        part.content_type
    )
    .into_bytes();
    synthetic.extend_from_slice(&part.content);
    let inner = MessageParser::default().parse(&synthetic)?;
    let (text, kind) = body_text(&inner);
    if matches!(kind, BodyKind::None) {
        return None;
    }
    Some((text, kind, self::attachments(&inner)))
}

/// A multipart whose boundary never occurs in its body has no parts: the body is its text.
fn undelimited_text(content: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(content);
    let text = normalise_text(&text);
    (!text.trim().is_empty()).then_some(text)
}

fn guess_boundary(content: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(content.get(..content.len().min(4096))?);
    text.lines()
        .map(str::trim_end)
        .find(|l| l.len() > 2 && l.starts_with("--") && !l.contains(' '))
        .map(|l| {
            l.trim_start_matches("--")
                .trim_end_matches("--")
                .to_string()
        })
        .filter(|b| !b.is_empty() && b.len() <= 200)
}
