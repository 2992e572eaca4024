//! Files on notes: the org's upload limits (`organizations?$select=maxuploadfilesize,
//! blockedattachments`) and a note with a file, created once under a client-chosen id.
//!
//! Small files go in one create-only `PATCH annotations(<id>)` with `documentbody`. Above
//! [`BLOCK_THRESHOLD`] of Base64 the note is created create-only without the file and the file
//! follows in blocks (`InitializeAnnotationBlocksUpload`, `UploadBlock`,
//! `CommitAnnotationBlocksUpload`), as Microsoft advises for files over about 4 MB; a retry finds
//! the note and re-sends the file only when the note still has none (`isdocument` false).
//! Block uploads are never put in a `$batch` (whether Dataverse allows it is unconfirmed).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::client::DataverseClient;
use crate::error::{DynamicsError, api_error};

/// Base64 length above which a file goes up in blocks.
pub const BLOCK_THRESHOLD: usize = 4 * 1024 * 1024;
/// Raw bytes per block: 3 MiB is exactly 4 MiB of Base64, the documented block maximum.
const BLOCK_BYTES: usize = 3 * 1024 * 1024;

/// The stock `blockedattachments` list (Dataverse's default), used only when the org's value
/// cannot be read as a string.
pub const STOCK_BLOCKED: &str = "ade;adp;app;asa;ashx;asmx;asp;bas;bat;cdx;cer;chm;class;cmd;com;config;cpl;crt;csh;dll;exe;fxp;hlp;hta;htr;htw;ida;idc;idq;inf;ins;isp;its;jar;js;jse;ksh;lnk;mad;maf;mag;mam;maq;mar;mas;mat;mau;mav;maw;mda;mdb;mde;mdt;mdw;mdz;msc;msh;msh1;msh1xml;msh2;msh2xml;mshxml;msi;msp;mst;ops;pcd;pif;prf;prg;printer;pst;reg;rem;scf;scr;sct;shb;shs;shtm;shtml;soap;stm;tmp;url;vb;vbe;vbs;vsmacros;vss;vst;vsw;ws;wsc;wsf;wsh;svg";

/// What the org accepts on a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgFileLimits {
    /// `maxuploadfilesize`: the limit applies to the Base64 text, not the file.
    pub max_upload_size: u64,
    /// `blockedattachments`, lower-case, without dots.
    pub blocked_extensions: Vec<String>,
}

impl Default for OrgFileLimits {
    /// Stock values: 5 MB and the stock blocked list.
    fn default() -> Self {
        OrgFileLimits {
            max_upload_size: 5_242_880,
            blocked_extensions: split_list(STOCK_BLOCKED),
        }
    }
}

impl OrgFileLimits {
    /// The largest file (raw bytes) whose Base64 fits in `max_upload_size`.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_upload_size / 4 * 3
    }

    /// The blocked extension of `filename`, if it has one (`report.EXE` -> `exe`).
    pub fn blocked_extension(&self, filename: &str) -> Option<String> {
        let (_, ext) = filename.rsplit_once('.')?;
        let ext = ext.trim().to_ascii_lowercase();
        self.blocked_extensions.contains(&ext).then_some(ext)
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split([';', ','])
        .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
        .filter(|e| !e.is_empty())
        .collect()
}

/// A note with a file on an incident.
#[derive(Debug, Clone)]
pub struct FileNote<'a> {
    /// Client-chosen id (derived from the case and the file's digest: the same file is one note).
    pub note_id: Uuid,
    /// The incident.
    pub incident_id: Uuid,
    /// `subject` (at most 500 characters).
    pub subject: &'a str,
    /// `notetext`.
    pub text: &'a str,
    /// `filename` (at most 255 characters).
    pub filename: &'a str,
    /// `mimetype`.
    pub mime_type: &'a str,
    /// The file.
    pub content: &'a [u8],
}

impl DataverseClient {
    /// The org's `maxuploadfilesize` and `blockedattachments`. A missing value keeps the stock
    /// one; a missing organization row is a decode error.
    pub async fn org_file_limits(&self) -> Result<OrgFileLimits, DynamicsError> {
        let v = self
            .get_json("organizations?$select=maxuploadfilesize,blockedattachments")
            .await?
            .ok_or_else(|| DynamicsError::Decode("organizations not found".into()))?;
        let row = v
            .get("value")
            .and_then(Value::as_array)
            .and_then(|rows| rows.first())
            .ok_or_else(|| DynamicsError::Decode("no organization row".into()))?;
        let stock = OrgFileLimits::default();
        Ok(OrgFileLimits {
            max_upload_size: row
                .get("maxuploadfilesize")
                .and_then(Value::as_u64)
                .unwrap_or(stock.max_upload_size),
            blocked_extensions: row
                .get("blockedattachments")
                .and_then(Value::as_str)
                .map(split_list)
                .unwrap_or(stock.blocked_extensions),
        })
    }

    /// Add `note` to its incident exactly once. Ok(false) when a note with that id and a file
    /// already exists (a retry or a concurrent duplicate).
    pub async fn add_file_note(&self, note: &FileNote<'_>) -> Result<bool, DynamicsError> {
        let base64_len = note.content.len().div_ceil(3) * 4;
        let mut body = json!({
            "subject": note.subject,
            "notetext": note.text,
            "filename": note.filename,
            "mimetype": note.mime_type,
            "objectid_incident@odata.bind": format!("/incidents({})", note.incident_id),
        });
        if base64_len <= BLOCK_THRESHOLD {
            body["documentbody"] = Value::String(STANDARD.encode(note.content));
            body["isdocument"] = Value::Bool(true);
            return self
                .create_only(&format!("annotations({})", note.note_id), &body)
                .await;
        }
        let created = self
            .create_only(&format!("annotations({})", note.note_id), &body)
            .await?;
        if !created && self.note_has_file(note.note_id).await? {
            return Ok(false);
        }
        self.upload_blocks(note).await?;
        Ok(true)
    }

    async fn note_has_file(&self, id: Uuid) -> Result<bool, DynamicsError> {
        let v = self
            .get_json(&format!("annotations({id})?$select=isdocument,filesize"))
            .await?;
        Ok(v.is_some_and(|v| {
            v.get("isdocument").and_then(Value::as_bool) == Some(true)
                && v.get("filesize").and_then(Value::as_u64).unwrap_or(0) > 0
        }))
    }

    async fn upload_blocks(&self, note: &FileNote<'_>) -> Result<(), DynamicsError> {
        let target = json!({"@odata.type": "Microsoft.Dynamics.CRM.annotation", "annotationid": note.note_id.to_string()});
        let init = self
            .action(
                "InitializeAnnotationBlocksUpload",
                &json!({"Target": target}),
            )
            .await?;
        let token = init
            .get("FileContinuationToken")
            .and_then(Value::as_str)
            .ok_or_else(|| DynamicsError::Decode("no FileContinuationToken".into()))?
            .to_string();
        let mut ids = Vec::new();
        for (i, block) in note.content.chunks(BLOCK_BYTES).enumerate() {
            // Every block id has the same length, as UploadBlock requires.
            let id = STANDARD.encode(format!("{i:08}"));
            self.action(
                "UploadBlock",
                &json!({"BlockId": id, "BlockData": STANDARD.encode(block), "FileContinuationToken": token}),
            )
            .await?;
            ids.push(id);
        }
        let mut commit_target = target;
        commit_target["filename"] = json!(note.filename);
        commit_target["mimetype"] = json!(note.mime_type);
        self.action(
            "CommitAnnotationBlocksUpload",
            &json!({"Target": commit_target, "BlockList": ids, "FileContinuationToken": token}),
        )
        .await?;
        Ok(())
    }

    /// An unbound action; its JSON answer (`Null` for 204).
    async fn action(&self, name: &str, body: &Value) -> Result<Value, DynamicsError> {
        let a = self
            .send(
                Method::POST,
                name,
                &[],
                Some(("application/json".into(), body.to_string())),
            )
            .await?;
        match a.status.as_u16() {
            204 => Ok(Value::Null),
            200..=299 => {
                serde_json::from_str(&a.body).map_err(|e| DynamicsError::Decode(e.to_string()))
            }
            s => Err(api_error(s, &a.body)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_on_base64_and_extensions_match_case_insensitively() {
        let l = OrgFileLimits::default();
        assert_eq!(l.max_file_bytes(), 3_932_160);
        assert_eq!(l.blocked_extension("Setup.EXE").as_deref(), Some("exe"));
        assert_eq!(l.blocked_extension("logo.svg").as_deref(), Some("svg"));
        assert_eq!(l.blocked_extension("invoice.pdf"), None);
        assert_eq!(l.blocked_extension("README"), None);
        assert_eq!(split_list(" .EXE; js;;"), vec!["exe", "js"]);
    }
}
