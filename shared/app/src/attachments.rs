//! The customer's attachments on the case (`ATTACHMENTS=upload`; the default `list` only names
//! them in the transcript, as before).
//!
//! What goes up is decided first, from the session alone ([`plan`]): every inbound message's
//! attachments in thread order; inline images the HTML shows by `cid:` (signature logos,
//! tracking pixels) are counted, not uploaded; the same content (SHA-256) goes up once per case,
//! however many messages carry it; a file over the org's `maxuploadfilesize` (on its Base64
//! size) or with a blocked extension stays in the store and the transcript says so and where.
//! Then each file becomes a note with the file, create-only under
//! `uuid5(incident, sha256)` so retries and concurrent requests add it once. A Dataverse refusal
//! of one file (4xx) is recorded and written on the case as a short note; it never fails the
//! case. A transient failure fails the request, whose retry finishes the uploads.
//!
//! What happened to each attachment is recorded at `sessions/<sid>/uploads/<key>-<n>.json`
//! (`mailcase attachments` reads it).

use dynamics::{DataverseClient, DynamicsError, FileNote, OrgFileLimits, derived_id};
use serde::{Deserialize, Serialize};
use store::ids::sha256_hex_bytes;
use store::layout;
use store::session::{AttachmentRef, Direction, MessageEntry, Session};
use store::sessions::Sessions;
use store::{ObjectStore, Update, update_json};
use transcript::Entry;
use uuid::Uuid;

use crate::case::HandoffError;
use crate::limits::LimitsCache;

/// `ATTACHMENTS`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Name them in the transcript; the files stay in the store (the default).
    #[default]
    List,
    /// Add each to the case as a note with the file.
    Upload,
}

impl Mode {
    /// `ATTACHMENTS` through `get`: `list` (default) or `upload`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Mode, String> {
        match get("ATTACHMENTS").as_deref().map(str::trim) {
            None | Some("") | Some("list") => Ok(Mode::List),
            Some("upload") => Ok(Mode::Upload),
            Some(other) => Err(format!(
                "ATTACHMENTS must be list or upload (got `{other}`)"
            )),
        }
    }
}

/// What happened to one attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// On the case as a note with the file.
    Uploaded {
        /// The note's id.
        note_id: String,
    },
    /// Not uploaded: larger than the org allows.
    OverLimit {
        /// Largest file the org accepts (bytes; its `maxuploadfilesize` is on the Base64 text).
        limit_bytes: u64,
    },
    /// Not uploaded: the org blocks this extension.
    Blocked {
        /// The extension.
        extension: String,
    },
    /// An inline image of the HTML body (logo, tracking pixel): counted, not uploaded.
    Inline,
    /// The same content is already on the case (from this or an earlier message).
    Duplicate {
        /// File name of the first copy.
        of: String,
    },
    /// Dataverse refused the file; the case has a note saying so.
    Refused {
        /// The error.
        error: String,
        /// The operator's fix.
        fix: String,
    },
    /// The stored original is missing.
    Missing,
}

impl Outcome {
    /// One line for people (CLI, transcript).
    pub fn describe(&self) -> String {
        match self {
            Outcome::Uploaded { note_id } => format!("uploaded as note {note_id}"),
            Outcome::OverLimit { limit_bytes } => {
                format!("over the org's upload limit ({})", human(*limit_bytes))
            }
            Outcome::Blocked { extension } => {
                format!(".{extension} files are blocked by the org")
            }
            Outcome::Inline => "inline image (not uploaded)".into(),
            Outcome::Duplicate { of } => format!("duplicate of {of}"),
            Outcome::Refused { error, .. } => format!("refused by Dynamics: {error}"),
            Outcome::Missing => "original missing from the store".into(),
        }
    }
}

/// The record kept per attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The message's key.
    pub message_key: String,
    /// Position among the message's attachments (0-based).
    pub index: usize,
    /// File name.
    pub filename: String,
    /// Size in bytes.
    pub size: u64,
    /// Store key of the original.
    pub key: String,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// One attachment and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The message's key.
    pub message_key: String,
    /// Position in the message (0-based).
    pub index: usize,
    /// The attachment.
    pub attachment: AttachmentRef,
    /// `None`: upload it; else why not.
    pub skip: Option<Outcome>,
}

/// Decide, for every customer attachment of the session, whether it goes up (pure).
pub fn plan(session: &Session, limits: &OrgFileLimits) -> Vec<Planned> {
    let mut seen: Vec<(String, String)> = Vec::new(); // (identity, filename)
    let mut out = Vec::new();
    for m in session
        .messages
        .iter()
        .filter(|m| m.direction == Direction::Inbound)
    {
        for (index, a) in m.attachments.iter().enumerate() {
            let identity = a.sha256.clone().unwrap_or_else(|| a.key.clone());
            let skip = if a.referenced {
                Some(Outcome::Inline)
            } else if let Some((_, first)) = seen.iter().find(|(id, _)| *id == identity) {
                Some(Outcome::Duplicate { of: first.clone() })
            } else if let Some(extension) = limits.blocked_extension(&a.filename) {
                Some(Outcome::Blocked { extension })
            } else if a.size > limits.max_file_bytes() {
                Some(Outcome::OverLimit {
                    limit_bytes: limits.max_file_bytes(),
                })
            } else {
                None
            };
            if !a.referenced && !seen.iter().any(|(id, _)| *id == identity) {
                seen.push((identity, a.filename.clone()));
            }
            out.push(Planned {
                message_key: m.key.clone(),
                index,
                attachment: a.clone(),
                skip,
            });
        }
    }
    out
}

/// The transcript entry of message `m` with each attachment's fate next to its name; inline
/// images left out (they are counted by [`summary_lines`]).
pub fn annotate(mut entry: Entry, m: &MessageEntry, plan: &[Planned]) -> Entry {
    entry.attachments = plan
        .iter()
        .filter(|p| p.message_key == m.key && p.skip != Some(Outcome::Inline))
        .map(|p| {
            let a = &p.attachment;
            let winmail = if a.winmail {
                " (Outlook winmail.dat whose contents could not be read; kept as it is)"
            } else {
                ""
            };
            let note = match &p.skip {
                None => " [on the case as a note]".to_string(),
                Some(Outcome::Duplicate { of }) => format!(" [same file as {of}]"),
                Some(o) => format!(
                    " [not uploaded: {}; original kept at {}]",
                    o.describe(),
                    a.key
                ),
            };
            (format!("{}{winmail}{note}", a.filename), a.size)
        })
        .collect();
    entry
}

/// The transcript's view of the session with each attachment's fate (see [`annotate`]).
pub fn thread_with(session: &Session, plan: &[Planned]) -> transcript::Thread {
    let mut t = crate::case::thread_of(session);
    t.messages = session
        .messages
        .iter()
        .filter(|m| !m.after_handoff)
        .map(|m| annotate(crate::case::entry_of(m), m, plan))
        .collect();
    t
}

/// Header lines: the inline images, counted once each however many messages carry them.
pub fn summary_lines(plan: &[Planned]) -> Vec<String> {
    let mut inline: Vec<&str> = plan
        .iter()
        .filter(|p| p.skip == Some(Outcome::Inline))
        .map(|p| p.attachment.sha256.as_deref().unwrap_or(&p.attachment.key))
        .collect();
    inline.sort_unstable();
    inline.dedup();
    match inline.len() {
        0 => Vec::new(),
        1 => vec!["Inline images (signature logos, tracking pixels) not uploaded: 1".into()],
        n => vec![format!(
            "Inline images (signature logos, tracking pixels) not uploaded: {n}"
        )],
    }
}

impl LimitsCache {
    /// The file limits [`plan`] needs for this session: the org's ([`LimitsCache::files`])
    /// when a customer attachment may go up, else the stock limits without a request (inline
    /// images never go up, and a session without attachments decides nothing).
    pub async fn files_for(
        &self,
        crm: &DataverseClient,
        session: &Session,
    ) -> Result<OrgFileLimits, DynamicsError> {
        let any = session
            .messages
            .iter()
            .filter(|m| m.direction == Direction::Inbound)
            .any(|m| m.attachments.iter().any(|a| !a.referenced));
        if any {
            self.files(crm).await
        } else {
            Ok(OrgFileLimits::default())
        }
    }

    /// The org's file limits, read once per process. Without the right to read them
    /// (a refusal) the stock limits are used and Dataverse still checks every file.
    pub async fn files(&self, crm: &DataverseClient) -> Result<OrgFileLimits, DynamicsError> {
        let mut guard = self.files.lock().await;
        if let Some(l) = guard.as_ref() {
            return Ok(l.clone());
        }
        let limits = match crm.org_file_limits().await {
            Ok(l) => l,
            Err(e) if e.is_retryable() => return Err(e),
            Err(e) => {
                tracing::warn!(error = %crate::DisplayChain(&e), fix = %e.fix(), "organization upload limits unreadable; using the stock limits");
                OrgFileLimits::default()
            }
        };
        *guard = Some(limits.clone());
        Ok(limits)
    }
}

/// What [`upload`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Uploaded {
    /// Files added (or found added) as notes.
    pub uploaded: usize,
    /// Attachments not uploaded (inline, duplicate, over limit, blocked, refused).
    pub not_uploaded: usize,
}

/// Upload the planned attachments of `only` (a message key), or of every message.
pub async fn upload<O: ObjectStore>(
    sessions: &Sessions<O>,
    crm: &DataverseClient,
    session: &Session,
    incident_id: Uuid,
    plan: &[Planned],
    only: Option<&str>,
) -> Result<Uploaded, HandoffError> {
    let mut done = Uploaded::default();
    for p in plan
        .iter()
        .filter(|p| only.is_none_or(|k| k == p.message_key))
    {
        let rkey = layout::upload(&session.id, &p.message_key, p.index);
        let outcome = match &p.skip {
            Some(o) => o.clone(),
            None => {
                let previous: Option<Record> = sessions.get_json(&rkey).await?;
                match previous.map(|r| r.outcome) {
                    Some(o @ Outcome::Uploaded { .. }) => o,
                    _ => upload_one(sessions, crm, session, incident_id, p).await?,
                }
            }
        };
        if matches!(outcome, Outcome::Uploaded { .. }) {
            done.uploaded += 1;
        } else {
            done.not_uploaded += 1;
        }
        let record = Record {
            message_key: p.message_key.clone(),
            index: p.index,
            filename: p.attachment.filename.clone(),
            size: p.attachment.size,
            key: p.attachment.key.clone(),
            outcome,
        };
        update_json(
            sessions.objects(),
            &rkey,
            store::sessions::UPDATE_ATTEMPTS,
            |cur: Option<Record>| {
                if cur.as_ref() == Some(&record) {
                    Update::Keep(())
                } else {
                    Update::Write(record.clone(), ())
                }
            },
        )
        .await?;
    }
    tracing::info!(
        incident_id = %incident_id,
        uploaded = done.uploaded,
        not_uploaded = done.not_uploaded,
        "attachments"
    );
    Ok(done)
}

async fn upload_one<O: ObjectStore>(
    sessions: &Sessions<O>,
    crm: &DataverseClient,
    session: &Session,
    incident_id: Uuid,
    p: &Planned,
) -> Result<Outcome, HandoffError> {
    let a = &p.attachment;
    let Some(object) = sessions.objects().get(&a.key).await? else {
        tracing::warn!(key = %a.key, "attachment original missing");
        return Ok(Outcome::Missing);
    };
    let bytes = object.bytes;
    let sha = a.sha256.clone().unwrap_or_else(|| sha256_hex_bytes(&bytes));
    let note_id = derived_id("note", &format!("{incident_id}/file/{sha}"));
    let date = session
        .messages
        .iter()
        .find(|m| m.key == p.message_key)
        .map(|m| m.date.clone())
        .unwrap_or_default();
    let subject: String = format!("Attachment: {}", a.filename)
        .chars()
        .take(500)
        .collect();
    let filename: String = a.filename.chars().take(255).collect();
    let text = format!(
        "Sent by the customer with the email of {date} (session {}).",
        session.id
    );
    let note = FileNote {
        note_id,
        incident_id,
        subject: &subject,
        text: &text,
        filename: &filename,
        mime_type: &a.content_type,
        content: &bytes,
    };
    match crm.add_file_note(&note).await {
        Ok(_) => Ok(Outcome::Uploaded {
            note_id: note_id.to_string(),
        }),
        Err(e) if e.is_retryable() => Err(e.into()),
        Err(e) => {
            let error = crate::DisplayChain(&e).to_string();
            tracing::warn!(key = %a.key, error = %error, "attachment refused by Dynamics; the case goes on without it");
            let said = format!(
                "The customer's attachment {} ({}) could not be added to this case: Dynamics refused it ({error}). The original is kept at {}.",
                a.filename,
                human(a.size),
                a.key
            );
            let refusal_id = derived_id("note", &format!("{incident_id}/file-refused/{sha}"));
            if let Err(e2) = crm
                .add_note(refusal_id, incident_id, "Attachment not added", &said)
                .await
            {
                if e2.is_retryable() {
                    return Err(e2.into());
                }
                tracing::warn!(error = %crate::DisplayChain(&e2), "could not note the refused attachment");
            }
            Ok(Outcome::Refused {
                error,
                fix: e.fix(),
            })
        }
    }
}

/// Every record of the session, by message key and index.
pub async fn records<O: ObjectStore>(
    sessions: &Sessions<O>,
    session: &Session,
) -> Result<Vec<Option<Record>>, store::StoreError> {
    let mut out = Vec::new();
    for m in &session.messages {
        for i in 0..m.attachments.len() {
            out.push(
                sessions
                    .get_json(&layout::upload(&session.id, &m.key, i))
                    .await?,
            );
        }
    }
    Ok(out)
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn att(name: &str, sha: &str, size: u64, referenced: bool) -> AttachmentRef {
        AttachmentRef {
            filename: name.into(),
            content_type: "application/octet-stream".into(),
            size,
            inline: referenced,
            winmail: false,
            key: format!("sessions/s/attachments/k/{name}"),
            sha256: Some(sha.into()),
            content_id: None,
            referenced,
        }
    }

    fn message(key: &str, attachments: Vec<AttachmentRef>) -> MessageEntry {
        MessageEntry {
            key: key.into(),
            message_id: None,
            direction: Direction::Inbound,
            date: "2024-03-12T10:00:00Z".into(),
            timestamp: 0,
            from: None,
            subject: None,
            reply_text: String::new(),
            attachments,
            after_handoff: false,
            ses_message_id: None,
        }
    }

    #[test]
    fn inline_logos_duplicates_limits_and_blocked_types_are_decided_from_the_session() {
        let logo = || att("logo.png", "L", 900, true);
        let session = Session {
            messages: vec![
                message("a", vec![att("invoice.pdf", "P", 1000, false), logo()]),
                message(
                    "b",
                    vec![
                        logo(),
                        att("photo.jpg", "J", 2000, false),
                        att("copy.pdf", "P", 1000, false),
                    ],
                ),
                message(
                    "c",
                    vec![
                        logo(),
                        att("big.zip", "Z", 9_000_000, false),
                        att("tool.exe", "E", 10, false),
                    ],
                ),
            ],
            ..Session::new("mc-1", "")
        };
        let p = plan(&session, &OrgFileLimits::default());
        let up: Vec<&str> = p
            .iter()
            .filter(|p| p.skip.is_none())
            .map(|p| p.attachment.filename.as_str())
            .collect();
        assert_eq!(up, vec!["invoice.pdf", "photo.jpg"]);
        assert_eq!(
            p[4].skip,
            Some(Outcome::Duplicate {
                of: "invoice.pdf".into()
            })
        );
        assert_eq!(
            p[6].skip,
            Some(Outcome::OverLimit {
                limit_bytes: 3_932_160
            })
        );
        assert_eq!(
            p[7].skip,
            Some(Outcome::Blocked {
                extension: "exe".into()
            })
        );
        assert_eq!(
            summary_lines(&p),
            vec!["Inline images (signature logos, tracking pixels) not uploaded: 1".to_string()]
        );
        let e = annotate(
            crate::case::entry_of(&session.messages[2]),
            &session.messages[2],
            &p,
        );
        assert_eq!(e.attachments.len(), 2, "the inline logo is not listed");
        assert!(e.attachments[0].0.contains("over the org's upload limit (3.8 MB); original kept at sessions/s/attachments/k/big.zip"), "{:?}", e.attachments);
    }

    #[test]
    fn mode_is_list_unless_upload_is_asked_for() {
        assert_eq!(Mode::from_lookup(|_| None), Ok(Mode::List));
        assert_eq!(
            Mode::from_lookup(|_| Some(" upload ".into())),
            Ok(Mode::Upload)
        );
        assert!(Mode::from_lookup(|_| Some("all".into())).is_err());
    }
}
