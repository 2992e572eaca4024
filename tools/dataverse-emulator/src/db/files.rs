//! Files on notes, as Dataverse handles them ([PA-FILES], [PA-FIO] in the team's reference):
//!
//! - `GET organizations?$select=maxuploadfilesize,blockedattachments` (one row; stock 5 MB and
//!   the stock blocked list; [`crate::Emulator::set_file_limits`] changes them);
//! - a note's `documentbody` must be Base64; its length (the limit is on the Base64 text) over
//!   `maxuploadfilesize` is 400 `0x80044a02` "Attachment file size is too big."; a `filename`
//!   with a blocked extension is 400 `0x80043e09` (AttachmentBlocked). Status 400 for both is
//!   UNCONFIRMED (the codes and messages are documented);
//! - `filesize` and `isdocument` are set by the service from the body;
//! - block upload: `InitializeAnnotationBlocksUpload` (Target with `annotationid`) ->
//!   `FileContinuationToken`; `UploadBlock` (BlockId Base64 of at most 64 bytes, all of one
//!   length; BlockData at most 4 MB); `CommitAnnotationBlocksUpload` writes the file onto the
//!   note through the same validation -> `{"AnnotationId","FileSizeInBytes"}`.
//!
//! Request bodies are accepted up to [`MAX_REQUEST_BYTES`] (the web server's own cap is
//! UNCONFIRMED; above the largest `maxuploadfilesize`, 131072000).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{Db, Req, Resp, error};

/// Largest request body the emulator reads.
pub const MAX_REQUEST_BYTES: usize = 140 * 1024 * 1024;
const MAX_BLOCK_BYTES: usize = 4 * 1024 * 1024;
const STOCK_BLOCKED: &str = "ade;adp;app;asa;ashx;asmx;asp;bas;bat;cdx;cer;chm;class;cmd;com;config;cpl;crt;csh;dll;exe;fxp;hlp;hta;htr;htw;ida;idc;idq;inf;ins;isp;its;jar;js;jse;ksh;lnk;mad;maf;mag;mam;maq;mar;mas;mat;mau;mav;maw;mda;mdb;mde;mdt;mdw;mdz;msc;msh;msh1;msh1xml;msh2;msh2xml;mshxml;msi;msp;mst;ops;pcd;pif;prf;prg;printer;pst;reg;rem;scf;scr;sct;shb;shs;shtm;shtml;soap;stm;tmp;url;vb;vbe;vbs;vsmacros;vss;vst;vsw;ws;wsc;wsf;wsh;svg";

/// The org's file settings and the block uploads in progress.
#[derive(Debug, Clone)]
pub struct Files {
    /// `maxuploadfilesize` (bytes of Base64).
    pub max_upload_size: u64,
    /// `blockedattachments` (`;`-separated).
    pub blocked: String,
    uploads: BTreeMap<String, Upload>,
}

#[derive(Debug, Clone)]
struct Upload {
    annotation_id: Uuid,
    blocks: BTreeMap<String, Vec<u8>>,
}

impl Default for Files {
    fn default() -> Self {
        Files {
            max_upload_size: 5_242_880,
            blocked: STOCK_BLOCKED.into(),
            uploads: BTreeMap::new(),
        }
    }
}

impl crate::Emulator {
    /// Set the org's `maxuploadfilesize` (bytes of Base64) and `blockedattachments`.
    pub fn set_file_limits(&self, max_upload_size: u64, blocked: &str) {
        self.with(|s| {
            s.db.files.max_upload_size = max_upload_size;
            s.db.files.blocked = blocked.to_string();
        });
    }
}

/// The router with the larger body limit file uploads need.
pub(crate) fn allow_large_bodies(r: axum::Router) -> axum::Router {
    r.layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES))
}

fn bad(message: &str) -> Resp {
    error(400, "0x80040203", message)
}

/// Requests this module answers; `None` for everything else.
pub(crate) fn route(db: &mut Db, req: &Req, path: &str) -> Option<Result<Resp, Resp>> {
    match (req.method.as_str(), path) {
        ("GET", "organizations") => Some(organizations(db, req)),
        ("POST", "InitializeAnnotationBlocksUpload") => Some(initialize(db, req)),
        ("POST", "UploadBlock") => Some(upload_block(db, req)),
        ("POST", "CommitAnnotationBlocksUpload") => Some(commit(db, req)),
        _ => None,
    }
}

fn organizations(db: &Db, req: &Req) -> Result<Resp, Resp> {
    let org_id = Uuid::new_v5(&Uuid::nil(), b"org").to_string();
    let mut row = Map::new();
    row.insert("organizationid".into(), json!(org_id));
    let all = [
        ("maxuploadfilesize", json!(db.files.max_upload_size)),
        ("blockedattachments", json!(db.files.blocked)),
        ("name", json!("mailcase emulator")),
    ];
    let select: Vec<String> = req
        .query
        .get("$select")
        .map(|s| s.split(',').map(|c| c.trim().to_string()).collect())
        .unwrap_or_else(|| all.iter().map(|(k, _)| k.to_string()).collect());
    for c in select.iter().filter(|c| c.as_str() != "organizationid") {
        let Some((_, v)) = all.iter().find(|(k, _)| k == c) else {
            return Err(error(
                400,
                "0x80060888",
                &format!(
                    "Could not find a property named '{c}' on type 'Microsoft.Dynamics.CRM.organization'."
                ),
            ));
        };
        row.insert(c.clone(), v.clone());
    }
    Ok(Resp::json(
        200,
        json!({"@odata.context": format!("{}/api/data/v9.2/$metadata#organizations", db.base_url), "value": [row]}),
    ))
}

/// Checks of a note body: Base64, size, blocked extension. Returns the columns the service
/// derives (`filesize`, `isdocument`).
pub(crate) fn check_note(db: &Db, body: &Map<String, Value>) -> Result<Map<String, Value>, Resp> {
    let mut derived = Map::new();
    if let Some(name) = body.get("filename").and_then(Value::as_str)
        && let Some((_, ext)) = name.rsplit_once('.')
    {
        let ext = ext.trim().to_ascii_lowercase();
        if db
            .files
            .blocked
            .split(';')
            .any(|b| b.trim().eq_ignore_ascii_case(&ext))
        {
            return Err(error(
                400,
                "0x80043e09",
                "The attachment is either not a valid type or is too large. It cannot be uploaded or downloaded.",
            ));
        }
    }
    match body.get("documentbody") {
        None | Some(Value::Null) => {}
        Some(Value::String(b64)) => {
            if b64.len() as u64 > db.files.max_upload_size {
                return Err(error(400, "0x80044a02", "Attachment file size is too big."));
            }
            let bytes = STANDARD
                .decode(b64)
                .map_err(|_| bad("The value of 'documentbody' is not a valid Base64 string."))?;
            derived.insert("filesize".into(), json!(bytes.len()));
            derived.insert("isdocument".into(), json!(!bytes.is_empty()));
        }
        Some(other) => {
            return Err(error(
                400,
                "0x80048d19",
                &format!("Cannot convert the literal '{other}' to the expected type 'Edm.String'."),
            ));
        }
    }
    Ok(derived)
}

fn target_id(body: &Value) -> Result<Uuid, Resp> {
    let t = body
        .get("Target")
        .ok_or_else(|| bad("Required parameter 'Target' is missing."))?;
    if t.get("@odata.type").and_then(Value::as_str) != Some("Microsoft.Dynamics.CRM.annotation") {
        return Err(error(
            400,
            "0x80048d19",
            "'@odata.type' Microsoft.Dynamics.CRM.annotation is required for the parameter 'Target'.",
        ));
    }
    t.get("annotationid")
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .filter(|id| !id.is_nil())
        .ok_or_else(|| bad("The Target must contain a valid 'annotationid' value."))
}

fn initialize(db: &mut Db, req: &Req) -> Result<Resp, Resp> {
    let body = req.body.clone().unwrap_or(Value::Null);
    let id = target_id(&body)?;
    let token = format!("emu-{}", Uuid::new_v4().simple());
    db.files.uploads.insert(
        token.clone(),
        Upload {
            annotation_id: id,
            blocks: BTreeMap::new(),
        },
    );
    Ok(Resp::json(
        200,
        json!({"@odata.context": format!("{}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.InitializeAnnotationBlocksUploadResponse", db.base_url), "FileContinuationToken": token}),
    ))
}

fn upload_block(db: &mut Db, req: &Req) -> Result<Resp, Resp> {
    let body = req.body.clone().unwrap_or(Value::Null);
    let field = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let token = field("FileContinuationToken")
        .ok_or_else(|| bad("Required parameter 'FileContinuationToken' is missing."))?;
    let block_id =
        field("BlockId").ok_or_else(|| bad("Required parameter 'BlockId' is missing."))?;
    let decoded_id = STANDARD
        .decode(&block_id)
        .map_err(|_| bad("BlockId must be a Base64 string."))?;
    if decoded_id.is_empty() || decoded_id.len() > 64 {
        return Err(bad("BlockId must encode at most 64 bytes."));
    }
    let data = STANDARD
        .decode(field("BlockData").unwrap_or_default())
        .map_err(|_| bad("BlockData must be a Base64 string."))?;
    if data.is_empty() || data.len() > MAX_BLOCK_BYTES {
        return Err(bad("A block must hold between 1 byte and 4 MB."));
    }
    let upload = db
        .files
        .uploads
        .get_mut(&token)
        .ok_or_else(|| bad("The FileContinuationToken is invalid or has expired."))?;
    if upload
        .blocks
        .keys()
        .next()
        .is_some_and(|k| STANDARD.decode(k).map(|d| d.len()).ok() != Some(decoded_id.len()))
    {
        return Err(bad("All BlockIds of an upload must have the same length."));
    }
    upload.blocks.insert(block_id, data);
    Ok(Resp::empty(204))
}

fn commit(db: &mut Db, req: &Req) -> Result<Resp, Resp> {
    let body = req.body.clone().unwrap_or(Value::Null);
    let id = target_id(&body)?;
    let token = body
        .get("FileContinuationToken")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("Required parameter 'FileContinuationToken' is missing."))?
        .to_string();
    let upload = db
        .files
        .uploads
        .get(&token)
        .filter(|u| u.annotation_id == id)
        .ok_or_else(|| bad("The FileContinuationToken is invalid or has expired."))?;
    let list = body
        .get("BlockList")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("Required parameter 'BlockList' is missing."))?;
    let mut bytes = Vec::new();
    for b in list {
        let block = b
            .as_str()
            .and_then(|k| upload.blocks.get(k))
            .ok_or_else(|| bad("The BlockList names a block that was not uploaded."))?;
        bytes.extend_from_slice(block);
    }
    let mut fields = json!({"documentbody": STANDARD.encode(&bytes)});
    for k in ["filename", "mimetype", "subject", "notetext"] {
        if let Some(v) = body.get("Target").and_then(|t| t.get(k)) {
            fields[k] = v.clone();
        }
    }
    // The write goes through the ordinary validation and privileges of a note.
    let write = Req {
        method: "PATCH".into(),
        path: format!("annotations({id})"),
        body: Some(fields),
        ..Req::default()
    };
    let r = db.execute(&write);
    if r.status >= 300 {
        return Err(r);
    }
    db.files.uploads.remove(&token);
    Ok(Resp::json(
        200,
        json!({"@odata.context": format!("{}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.CommitAnnotationBlocksUploadResponse", db.base_url), "AnnotationId": id.to_string(), "FileSizeInBytes": bytes.len()}),
    ))
}
