//! The attachments of a parsed message: each MIME attachment part as an [`Attachment`] with a
//! safe file name and a content type. Used by parsing and by the repairs of broken multiparts.

use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use crate::model::Attachment;

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
pub(crate) fn take_attachments(msg: &mut Message<'_>) -> Vec<Attachment> {
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
