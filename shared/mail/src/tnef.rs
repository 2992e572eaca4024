//! Outlook's `winmail.dat` (TNEF, [MS-OXTNEF]): the files inside become the message's
//! attachments. Only what that needs is read: the attachment-level attributes
//! `attAttachRendData` (starts an attachment), `attAttachTitle` (8.3 name), `attAttachData`
//! (the bytes) and `attAttachment` (MAPI properties: the long file name and MIME type).
//!
//! Why not the `tnef` crate (0.1.1): last released in 2019, it depends on chrono (this crate
//! reads no clock and takes no clock dependency) and returns only the 8.3 title, so a
//! `Quarterly report.docx` arrives as `QUARTE~1.DOC`. This reader is small, bounds-checked at
//! every read and never panics; an unreadable container is left as it is (`winmail: true`).

use crate::Attachment;

const SIGNATURE: u32 = 0x223E_9F78;
const LEVEL_ATTACHMENT: u8 = 0x02;
const ATT_ATTACH_DATA: u16 = 0x800F;
const ATT_ATTACH_TITLE: u16 = 0x8010;
const ATT_ATTACH_REND_DATA: u16 = 0x9002;
const ATT_ATTACHMENT: u16 = 0x9005;
const PR_ATTACH_DATA_BIN: u16 = 0x3701;
const PR_ATTACH_FILENAME: u16 = 0x3704;
const PR_ATTACH_LONG_FILENAME: u16 = 0x3707;
const PR_ATTACH_MIME_TAG: u16 = 0x370E;
const PR_DISPLAY_NAME: u16 = 0x3001;
/// More files than any real message carries: stop there instead of building a huge list.
const MAX_FILES: usize = 500;

/// One file found in a TNEF container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TnefFile {
    /// Long file name when the properties carry one, else the 8.3 title.
    pub name: Option<String>,
    /// `PR_ATTACH_MIME_TAG`.
    pub mime: Option<String>,
    /// The bytes.
    pub data: Vec<u8>,
}

/// Why a container could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TnefError {
    /// Not a TNEF stream (wrong signature).
    NotTnef,
    /// An attribute runs past the end or its checksum is wrong.
    Damaged,
}

/// The files in a TNEF stream, in order. Attachments without data (e.g. OLE objects) are left
/// out. Never panics.
pub fn read(bytes: &[u8]) -> Result<Vec<TnefFile>, TnefError> {
    let mut r = Reader { b: bytes, at: 0 };
    if r.u32().ok_or(TnefError::NotTnef)? != SIGNATURE {
        return Err(TnefError::NotTnef);
    }
    r.take(2).ok_or(TnefError::Damaged)?; // legacy key
    let mut files: Vec<TnefFile> = Vec::new();
    let mut current: Option<TnefFile> = None;
    let mut long_name = false;
    while r.at < bytes.len() {
        let level = r.u8().ok_or(TnefError::Damaged)?;
        let id = r.u32().ok_or(TnefError::Damaged)?;
        let len = r.u32().ok_or(TnefError::Damaged)? as usize;
        let data = r.take(len).ok_or(TnefError::Damaged)?;
        let sum = r.u16().ok_or(TnefError::Damaged)?;
        let expected = data.iter().fold(0u16, |s, b| s.wrapping_add(u16::from(*b)));
        if sum != expected {
            return Err(TnefError::Damaged);
        }
        if level != LEVEL_ATTACHMENT {
            continue;
        }
        match (id & 0xFFFF) as u16 {
            ATT_ATTACH_REND_DATA => {
                if let Some(f) = current.take() {
                    push(&mut files, f);
                }
                current = Some(TnefFile::default());
                long_name = false;
            }
            ATT_ATTACH_TITLE => {
                let f = current.get_or_insert_with(TnefFile::default);
                if !long_name {
                    f.name = string8(data);
                }
            }
            ATT_ATTACH_DATA => {
                current.get_or_insert_with(TnefFile::default).data = data.to_vec();
            }
            ATT_ATTACHMENT => {
                let f = current.get_or_insert_with(TnefFile::default);
                for (prop, value) in mapi_props(data) {
                    match prop {
                        PR_ATTACH_LONG_FILENAME => {
                            if let Some(n) = value.text() {
                                f.name = Some(n);
                                long_name = true;
                            }
                        }
                        PR_ATTACH_FILENAME | PR_DISPLAY_NAME if f.name.is_none() => {
                            f.name = value.text();
                        }
                        PR_ATTACH_MIME_TAG => f.mime = value.text(),
                        PR_ATTACH_DATA_BIN if f.data.is_empty() => {
                            if let Value::Binary(b) = value {
                                f.data = b.to_vec();
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        if files.len() >= MAX_FILES {
            break;
        }
    }
    if let Some(f) = current.take() {
        push(&mut files, f);
    }
    Ok(files)
}

fn push(files: &mut Vec<TnefFile>, f: TnefFile) {
    if !f.data.is_empty() && files.len() < MAX_FILES {
        files.push(f);
    }
}

/// Replace each readable `winmail.dat` in `attachments` by the files inside it. A container
/// that cannot be read, or holds no file (only the rich-text body), stays as it is with
/// `winmail: true`, so the transcript can say so.
pub fn expand(attachments: &mut Vec<Attachment>) {
    if !attachments.iter().any(|a| a.winmail) {
        return;
    }
    let mut out = Vec::with_capacity(attachments.len());
    for a in attachments.drain(..) {
        if !a.winmail {
            out.push(a);
            continue;
        }
        match read(&a.content) {
            Ok(files) if !files.is_empty() => {
                for (i, f) in files.into_iter().enumerate() {
                    let filename = f
                        .name
                        .as_deref()
                        .map(crate::parts::safe_filename)
                        .filter(|n| !n.is_empty())
                        .unwrap_or_else(|| format!("winmail-{}.bin", i + 1));
                    let content_type = f
                        .mime
                        .map(|m| m.trim().to_ascii_lowercase())
                        .filter(|m| m.contains('/') && !m.contains(char::is_whitespace))
                        .unwrap_or_else(|| guess_type(&filename).to_string());
                    out.push(Attachment {
                        filename,
                        content_type,
                        size: f.data.len() as u64,
                        inline: false,
                        winmail: false,
                        content_id: None,
                        referenced: false,
                        content: f.data,
                    });
                }
            }
            _ => out.push(a),
        }
    }
    *attachments = out;
}

/// A MIME type from a file name's extension (what Outlook would have sent).
pub fn guess_type(filename: &str) -> &'static str {
    let ext = filename
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "htm" | "html" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "zip" => "application/zip",
        "eml" => "message/rfc822",
        _ => "application/octet-stream",
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.b.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|s| u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn skip_padded(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.take(n)?;
        let pad = (4 - n % 4) % 4;
        self.take(pad)?;
        Some(s)
    }
}

enum Value<'a> {
    String8(&'a [u8]),
    Unicode(&'a [u8]),
    Binary(&'a [u8]),
    Other,
}

impl Value<'_> {
    fn text(&self) -> Option<String> {
        match self {
            Value::String8(b) => string8(b),
            Value::Unicode(b) => {
                let units: Vec<u16> = b
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .take_while(|u| *u != 0)
                    .collect();
                Some(String::from_utf16_lossy(&units)).filter(|s| !s.trim().is_empty())
            }
            _ => None,
        }
    }
}

/// An 8-bit string: UTF-8 when it is valid, else windows-1252 (Outlook's usual OEM page).
fn string8(b: &[u8]) -> Option<String> {
    let b = b.split(|c| *c == 0).next().unwrap_or(b);
    let s = match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(b).0.into_owned(),
    };
    Some(s).filter(|s| !s.trim().is_empty())
}

/// The properties of an `attAttachment` block, as far as they can be read; an unknown type
/// stops the walk (what was read so far is kept).
fn mapi_props(data: &[u8]) -> Vec<(u16, Value<'_>)> {
    let mut out = Vec::new();
    let mut r = Reader { b: data, at: 0 };
    let Some(count) = r.u32() else {
        return out;
    };
    for _ in 0..count.min(4096) {
        let (Some(kind), Some(id)) = (r.u16(), r.u16()) else {
            break;
        };
        if id >= 0x8000 {
            // Named property: GUID, then a numeric id or a UTF-16 name.
            if r.take(16).is_none() {
                break;
            }
            match r.u32() {
                Some(0) => {
                    if r.u32().is_none() {
                        break;
                    }
                }
                Some(1) => {
                    let Some(n) = r.u32() else { break };
                    if r.skip_padded(n as usize).is_none() {
                        break;
                    }
                }
                _ => break,
            }
        }
        let multi = kind & 0x1000 != 0;
        let base = kind & !0x1000;
        let fixed = match base {
            0x0001 | 0x0002 | 0x0003 | 0x0004 | 0x000A | 0x000B => Some(4),
            0x0005..=0x0007 | 0x0014 | 0x0040 => Some(8),
            0x0048 => Some(16),
            0x000D | 0x001E | 0x001F | 0x0102 => None,
            _ => break,
        };
        let values = if multi || fixed.is_none() {
            match r.u32() {
                Some(n) => n,
                None => break,
            }
        } else {
            1
        };
        let mut ok = true;
        for i in 0..values.min(4096) {
            let v = match fixed {
                Some(n) => r.take(n).map(|_| Value::Other),
                None => r
                    .u32()
                    .and_then(|n| r.skip_padded(n as usize))
                    .map(|b| match base {
                        0x001E => Value::String8(b),
                        0x001F => Value::Unicode(b),
                        0x0102 => Value::Binary(b),
                        _ => Value::Other,
                    }),
            };
            match v {
                Some(v) if i == 0 && !multi => out.push((id, v)),
                Some(_) => {}
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            break;
        }
    }
    out
}

/// A TNEF stream with these files (name, MIME type, bytes): for tests and fixtures. The names
/// go in as the 8.3 title and as `PR_ATTACH_LONG_FILENAME` (UTF-16).
pub fn build(files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    fn attr(out: &mut Vec<u8>, level: u8, id: u32, data: &[u8]) {
        out.push(level);
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        let sum = data.iter().fold(0u16, |s, b| s.wrapping_add(u16::from(*b)));
        out.extend_from_slice(&sum.to_le_bytes());
    }
    fn padded(out: &mut Vec<u8>, b: &[u8]) {
        out.extend_from_slice(&(b.len() as u32).to_le_bytes());
        out.extend_from_slice(b);
        out.extend(std::iter::repeat_n(0u8, (4 - b.len() % 4) % 4));
    }
    let mut out = Vec::new();
    out.extend_from_slice(&SIGNATURE.to_le_bytes());
    out.extend_from_slice(&0x0001u16.to_le_bytes());
    attr(&mut out, 0x01, 0x0008_9006, &[0, 0, 1, 0]); // attTnefVersion
    for (name, mime, data) in files {
        attr(
            &mut out,
            LEVEL_ATTACHMENT,
            0x0006_9002,
            &[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        );
        let short: String = name.chars().take(8).collect();
        let mut title = short.into_bytes();
        title.push(0);
        attr(&mut out, LEVEL_ATTACHMENT, 0x0001_8010, &title);
        attr(&mut out, LEVEL_ATTACHMENT, 0x0006_800F, data);
        let mut props = Vec::new();
        props.extend_from_slice(&2u32.to_le_bytes());
        props.extend_from_slice(&0x001Fu16.to_le_bytes());
        props.extend_from_slice(&PR_ATTACH_LONG_FILENAME.to_le_bytes());
        props.extend_from_slice(&1u32.to_le_bytes());
        let mut wide: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        wide.extend_from_slice(&[0, 0]);
        padded(&mut props, &wide);
        props.extend_from_slice(&0x001Eu16.to_le_bytes());
        props.extend_from_slice(&PR_ATTACH_MIME_TAG.to_le_bytes());
        props.extend_from_slice(&1u32.to_le_bytes());
        let mut m = mime.as_bytes().to_vec();
        m.push(0);
        padded(&mut props, &m);
        attr(&mut out, LEVEL_ATTACHMENT, 0x0006_9005, &props);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_come_out_with_their_long_names_and_types() {
        let docx = b"PK\x03\x04 pretend docx";
        let stream = build(&[
            (
                "Quarterly report.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                docx,
            ),
            ("notes.txt", "text/plain", b"hello"),
        ]);
        let files = read(&stream).expect("readable");
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].name.as_deref(), Some("Quarterly report.docx"));
        assert_eq!(files[0].data, docx);
        assert_eq!(files[1].mime.as_deref(), Some("text/plain"));
        assert_eq!(files[1].data, b"hello");
    }

    #[test]
    fn damaged_or_foreign_input_is_an_error_never_a_panic() {
        assert_eq!(read(b"not tnef at all"), Err(TnefError::NotTnef));
        assert_eq!(read(&[]), Err(TnefError::NotTnef));
        let stream = build(&[("a.pdf", "application/pdf", b"%PDF-1.4")]);
        for cut in 0..stream.len() {
            let _ = read(&stream[..cut]);
        }
        let mut bad = stream.clone();
        let last = bad.len() - 3;
        bad[last] ^= 0xFF;
        assert_eq!(read(&bad), Err(TnefError::Damaged));
        // Every single-byte corruption is survived.
        for i in 0..stream.len() {
            let mut s = stream.clone();
            s[i] = s[i].wrapping_add(0x5A);
            let _ = read(&s);
        }
    }

    #[test]
    fn expand_replaces_a_readable_container_and_keeps_an_unreadable_one() {
        let att = |name: &str, content: Vec<u8>| Attachment {
            filename: name.into(),
            content_type: "application/ms-tnef".into(),
            size: content.len() as u64,
            inline: false,
            winmail: true,
            content_id: None,
            referenced: false,
            content,
        };
        let good = build(&[("Offer.docx", "", b"PK docx")]);
        let mut list = vec![
            att("winmail.dat", good),
            att("winmail.dat", b"garbage".to_vec()),
        ];
        expand(&mut list);
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].filename, "Offer.docx");
        assert!(!list[0].winmail);
        assert_eq!(
            list[0].content_type,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        );
        assert_eq!(list[1].filename, "winmail.dat");
        assert!(list[1].winmail);
    }
}
