//! The emulated organisation: one `execute` used by direct requests and by `$batch` parts
//! alike, routing each request to the module that holds its concept:
//!
//! - [`records`]: the tables and their rows (seeding, reads with `$select`/`$filter`/`$top`,
//!   `EntityDefinitions` metadata).
//! - [`validation`]: strict checks of incoming write bodies, with the real status codes and
//!   error bodies.
//! - [`actions`]: the writes (create by POST, PATCH update or upsert, DELETE) and `AddToQueue`.
//! - [`states`]: the incident's state and status transitions the writes obey.
//! - [`files`]: notes with file bodies (block uploads, size and type limits).
//! - [`security`]: the application user's role and privilege checks.
//!
//! Dependencies run one way: records ← validation ← actions. files, security and states were
//! modules of their own beside `db` and used its types while `db` used theirs (an import cycle);
//! they are the organisation's concepts too, so they live here.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::schema::{Table, stock};
mod actions;
pub(crate) mod files;
mod records;
pub(crate) mod security;
mod states;
mod validation;

use security::Role;

/// A response before it becomes HTTP.
#[derive(Debug, Clone)]
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// JSON body (`Null` for none).
    pub body: Value,
}

impl Resp {
    pub(crate) fn json(status: u16, body: Value) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body,
        }
    }
    pub(crate) fn empty(status: u16) -> Resp {
        Resp {
            status,
            headers: Vec::new(),
            body: Value::Null,
        }
    }
}

/// `{"error":{"code","message"}}` with a status.
pub fn error(status: u16, code: &str, message: &str) -> Resp {
    Resp::json(status, json!({"error": {"code": code, "message": message}}))
}

/// The request as `execute` sees it.
#[derive(Debug, Clone, Default)]
pub struct Req {
    /// Method.
    pub method: String,
    /// Path after `/api/data/v9.2/`.
    pub path: String,
    /// Decoded query parameters.
    pub query: BTreeMap<String, String>,
    /// `If-None-Match`.
    pub if_none_match: Option<String>,
    /// `If-Match`.
    pub if_match: Option<String>,
    /// `Prefer: return=representation`.
    pub representation: bool,
    /// JSON body.
    pub body: Option<Value>,
}

/// All state of the emulated organisation.
#[derive(Debug, Clone)]
pub struct Db {
    /// Tables by logical name.
    pub tables: BTreeMap<&'static str, Table>,
    /// Records by entity set.
    pub records: BTreeMap<String, BTreeMap<Uuid, Map<String, Value>>>,
    /// The application user's security role (full by default).
    pub role: Role,
    /// The application user.
    pub user_id: Uuid,
    /// The application user's (root) business unit.
    pub business_unit: Uuid,
    /// Base URL (for OData-EntityId and @odata.context).
    pub base_url: String,
    /// Upload limits and block uploads (`files.rs`).
    pub files: files::Files,
    seq: u64,
}

impl Db {
    pub(crate) fn new(base_url: String, user_id: Uuid, business_unit: Uuid) -> Db {
        let tables = stock();
        let records = tables
            .values()
            .map(|t| (t.set.to_string(), BTreeMap::new()))
            .collect();
        Db {
            tables,
            records,
            role: Role::full(),
            user_id,
            business_unit,
            base_url,
            files: files::Files::default(),
            seq: 0,
        }
    }

    fn api(&self) -> String {
        format!("{}/api/data/v9.2/", self.base_url)
    }

    /// Run one request against the state.
    pub fn execute(&mut self, req: &Req) -> Resp {
        match self.route(req) {
            Ok(r) | Err(r) => r,
        }
    }

    fn route(&mut self, req: &Req) -> Result<Resp, Resp> {
        let path = req.path.trim_start_matches('/');
        if path == "WhoAmI" || path == "WhoAmI()" {
            return Ok(Resp::json(
                200,
                json!({
                    "@odata.context": format!("{}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse", self.api()),
                    "BusinessUnitId": self.business_unit.to_string(),
                    "UserId": self.user_id.to_string(),
                    "OrganizationId": Uuid::new_v5(&Uuid::nil(), b"org").to_string(),
                }),
            ));
        }
        if let Some(rest) = path.strip_prefix("EntityDefinitions(") {
            return self.metadata(rest);
        }
        if let Some(r) = files::route(self, req, path) {
            return r;
        }
        let (head, action) = match path.split_once('/') {
            Some((h, a)) => (h, Some(a)),
            None => (path, None),
        };
        let (set, id) = match head.split_once('(') {
            Some((s, rest)) => {
                let inner = rest.strip_suffix(')').ok_or_else(|| {
                    error(
                        400,
                        "0x80060888",
                        &format!("Bad Request - Error in query syntax: '{head}'"),
                    )
                })?;
                let id = Uuid::parse_str(inner).map_err(|_| {
                    error(
                        400,
                        "0x80060888",
                        &format!("Bad Request - Error in query syntax: invalid key '{inner}'"),
                    )
                })?;
                (s, Some(id))
            }
            None => (head, None),
        };
        let table = self.table_by_set(set).cloned().ok_or_else(|| {
            error(
                404,
                "0x80060888",
                &format!("Resource not found for the segment '{set}'."),
            )
        })?;
        match (req.method.as_str(), id, action) {
            ("POST", Some(qid), Some("Microsoft.Dynamics.CRM.AddToQueue")) if set == "queues" => {
                self.add_to_queue(qid, req)
            }
            ("GET", Some(uid), Some("Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"))
                if set == "systemusers" =>
            {
                self.retrieve_user_privileges(uid)
            }
            (_, _, Some(a)) => Err(error(
                400,
                "0x80060888",
                &format!("Resource not found for the segment '{a}'."),
            )),
            ("GET", None, None) => self.list(&table, req),
            ("GET", Some(id), None) => self.read(&table, id, req),
            ("POST", None, None) => self.create_post(&table, req),
            ("PATCH", Some(id), None) => self.patch(&table, id, req),
            ("DELETE", Some(id), None) => self.delete(&table, id),
            _ => Err(error(405, "", "Method not allowed")),
        }
    }
}

/// `<logical> With Id = <id> Does Not Exist` (404 `0x80040217`).
fn not_found(t: &Table, id: Uuid) -> Resp {
    error(
        404,
        "0x80040217",
        &format!("{} With Id = {id} Does Not Exist", t.logical),
    )
}
