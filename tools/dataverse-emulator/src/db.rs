//! The emulated organisation: records, validation with the real status codes and error bodies,
//! and one `execute` used by direct requests and by `$batch` parts alike.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::odata;
use crate::schema::{Kind, Table, stock};
use crate::security::Role;

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
    pub files: crate::files::Files,
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
            files: crate::files::Files::default(),
            seq: 0,
        }
    }

    fn table_by_set(&self, set: &str) -> Option<&Table> {
        self.tables.values().find(|t| t.set == set)
    }

    /// Insert a record directly (seeding).
    pub fn seed(&mut self, set: &str, id: Uuid, mut fields: Map<String, Value>) {
        if let Some(t) = self.table_by_set(set) {
            fields.insert(t.key.into(), json!(id.to_string()));
        }
        self.seq += 1;
        fields
            .entry("createdon")
            .or_insert_with(|| json!(format!("2024-01-01T00:00:{:02}Z", self.seq % 60)));
        self.records
            .entry(set.to_string())
            .or_default()
            .insert(id, fields);
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
        if let Some(r) = crate::files::route(self, req, path) {
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
            ("DELETE", Some(id), None) => {
                self.require("Delete", &table, None)?;
                if let Some(r) = self.records.get(set).and_then(|m| m.get(&id)) {
                    self.require("Delete", &table, Some(self.scope_of(&table, r)))?;
                }
                match self.records.get_mut(set).and_then(|r| r.remove(&id)) {
                    Some(_) => Ok(Resp::empty(204)),
                    None => Err(not_found(&table, id)),
                }
            }
            _ => Err(error(405, "", "Method not allowed")),
        }
    }

    fn list(&self, t: &Table, req: &Req) -> Result<Resp, Resp> {
        self.require("Read", t, None)?;
        let select = select_of(t, req)?;
        let filter = match req.query.get("$filter") {
            Some(f) => Some(odata::parse_filter(f).map_err(|m| error(400, "0x80040203", &m))?),
            None => None,
        };
        if let Some(f) = &filter
            && !t.columns.contains_key(&f.column)
            && !f.column.starts_with('_')
        {
            return Err(error(
                400,
                "0x80060888",
                &format!(
                    "Could not find a property named '{}' on type 'Microsoft.Dynamics.CRM.{}'.",
                    f.column, t.logical
                ),
            ));
        }
        let top = req
            .query
            .get("$top")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(usize::MAX);
        let rows: Vec<Value> = self
            .records
            .get(t.set)
            .map(|m| {
                m.values()
                    .filter(|r| filter.as_ref().is_none_or(|f| f.matches(r)))
                    .filter(|r| self.can_read(t, r))
                    .take(top)
                    .map(|r| project(r, &select))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Resp::json(
            200,
            json!({"@odata.context": format!("{}$metadata#{}", self.api(), t.set), "value": rows}),
        ))
    }

    fn read(&self, t: &Table, id: Uuid, req: &Req) -> Result<Resp, Resp> {
        self.require("Read", t, None)?;
        let select = select_of(t, req)?;
        let r = self
            .records
            .get(t.set)
            .and_then(|m| m.get(&id))
            .ok_or_else(|| not_found(t, id))?;
        self.require("Read", t, Some(self.scope_of(t, r)))?;
        let mut v = project(r, &select);
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "@odata.context".into(),
                json!(format!("{}$metadata#{}/$entity", self.api(), t.set)),
            );
        }
        Ok(Resp::json(200, v))
    }

    fn create_post(&mut self, t: &Table, req: &Req) -> Result<Resp, Resp> {
        let body = req
            .body
            .clone()
            .and_then(|b| b.as_object().cloned())
            .ok_or_else(|| error(400, "0x80040203", "The request body must be a JSON object."))?;
        let id = match body.get(t.key).and_then(Value::as_str) {
            Some(s) => Uuid::parse_str(s).map_err(|_| {
                error(
                    400,
                    "0x80048d19",
                    &format!("Cannot convert the literal '{s}' to the expected type 'Edm.Guid'."),
                )
            })?,
            None => Uuid::new_v4(),
        };
        if self.exists(t.set, id) {
            return Err(error(412, "0x80040237", "Cannot insert duplicate key."));
        }
        self.create(t, id, body)?;
        Ok(self.written(t, id, req, 201))
    }

    fn patch(&mut self, t: &Table, id: Uuid, req: &Req) -> Result<Resp, Resp> {
        let body = req
            .body
            .clone()
            .and_then(|b| b.as_object().cloned())
            .ok_or_else(|| error(400, "0x80040203", "The request body must be a JSON object."))?;
        let exists = self.exists(t.set, id);
        if req.if_none_match.as_deref() == Some("*") && exists {
            return Err(error(
                412,
                "0x80040237",
                "A record with matching key values already exists.",
            ));
        }
        if req.if_match.as_deref() == Some("*") && !exists {
            return Err(not_found(t, id));
        }
        if exists {
            let current = self
                .records
                .get(t.set)
                .and_then(|m| m.get(&id))
                .cloned()
                .unwrap_or_default();
            let scope = self.check_update(t, &current, &body)?;
            if t.logical == "incident" {
                crate::states::check_incident_update(&current, &body)?;
            }
            let fields = self.validate(t, &body)?;
            self.check_binds(t, &body, scope)?;
            if let Some(r) = self.records.get_mut(t.set).and_then(|m| m.get_mut(&id)) {
                for (k, v) in fields {
                    r.insert(k, v);
                }
                r.insert("modifiedon".into(), json!(crate::states::now_utc()));
            }
            Ok(self.written(t, id, req, 200))
        } else {
            self.create(t, id, body)?;
            Ok(self.written(t, id, req, 200))
        }
    }

    fn written(&self, t: &Table, id: Uuid, req: &Req, status_with_body: u16) -> Resp {
        let entity_id = format!("{}{}({id})", self.api(), t.set);
        if req.representation {
            let r = self
                .records
                .get(t.set)
                .and_then(|m| m.get(&id))
                .cloned()
                .unwrap_or_default();
            let mut resp = Resp::json(status_with_body, Value::Object(r));
            resp.headers
                .push(("Preference-Applied".into(), "return=representation".into()));
            resp.headers.push(("Location".into(), entity_id));
            resp
        } else {
            let mut resp = Resp::empty(204);
            resp.headers
                .push(("OData-EntityId".into(), entity_id.clone()));
            resp.headers.push(("Location".into(), entity_id));
            resp
        }
    }

    fn exists(&self, set: &str, id: Uuid) -> bool {
        self.records.get(set).is_some_and(|m| m.contains_key(&id))
    }

    fn create(&mut self, t: &Table, id: Uuid, body: Map<String, Value>) -> Result<(), Resp> {
        self.check_create(t, &body)?;
        let mut fields = self.validate(t, &body)?;
        let owner = Db::bound_owner(&body).unwrap_or(self.user_id);
        let scope = self.owner_scope(owner);
        self.check_binds(t, &body, scope)?;
        if t.logical == "incident" && !fields.contains_key("_customerid_value") {
            return Err(error(
                400,
                "0x80040203",
                "You should specify a parent contact or account.",
            ));
        }
        self.seq += 1;
        fields.insert(t.key.into(), json!(id.to_string()));
        fields.insert(
            "createdon".into(),
            json!(format!(
                "2024-03-12T10:{:02}:{:02}Z",
                (self.seq / 60) % 60,
                self.seq % 60
            )),
        );
        fields.insert("_createdby_value".into(), json!(self.user_id.to_string()));
        fields.insert("modifiedon".into(), json!(crate::states::now_utc()));
        if !matches!(t.logical, "systemuser" | "team" | "businessunit") {
            fields
                .entry("_ownerid_value")
                .or_insert(json!(owner.to_string()));
            fields.insert(
                "_owningbusinessunit_value".into(),
                json!(self.owner_scope(owner).business_unit.to_string()),
            );
        }
        match t.logical {
            "incident" => {
                let suffix: String = id
                    .simple()
                    .to_string()
                    .chars()
                    .take(6)
                    .collect::<String>()
                    .to_uppercase();
                fields.insert(
                    "ticketnumber".into(),
                    json!(format!("CAS-{:05}-{suffix}", 1000 + self.seq)),
                );
                fields.entry("statecode").or_insert(json!(0));
                fields.entry("statuscode").or_insert(json!(1));
                fields.entry("prioritycode").or_insert(json!(2));
            }
            "contact" => {
                let first = fields
                    .get("firstname")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let last = fields.get("lastname").and_then(Value::as_str).unwrap_or("");
                fields.insert(
                    "fullname".into(),
                    json!(format!("{first} {last}").trim().to_string()),
                );
            }
            _ => {}
        }
        self.records
            .entry(t.set.to_string())
            .or_default()
            .insert(id, fields);
        Ok(())
    }

    /// Check a write body column by column, as Dataverse does, and turn binds into lookups.
    fn validate(&self, t: &Table, body: &Map<String, Value>) -> Result<Map<String, Value>, Resp> {
        let derived = match t.logical {
            "annotation" => crate::files::check_note(self, body)?,
            _ => Map::new(),
        };
        let mut out = Map::new();
        for (k, v) in body {
            if k.starts_with('@') || k == t.key {
                continue;
            }
            if let Some(nav) = k.strip_suffix("@odata.bind") {
                let Some(targets) = t.navs.get(nav) else {
                    return Err(error(
                        400,
                        "0x80048d19",
                        &format!(
                            "An undeclared property '{nav}' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values."
                        ),
                    ));
                };
                let target = v.as_str().unwrap_or("");
                let (set, id) = odata::parse_bind(target).ok_or_else(|| {
                    error(
                        400,
                        "0x80048d19",
                        &format!("Invalid reference '{target}' for '{k}'."),
                    )
                })?;
                if !targets.contains(&set.as_str()) {
                    return Err(error(
                        400,
                        "0x80048d19",
                        &format!("Invalid entity set '{set}' for navigation property '{nav}'."),
                    ));
                }
                if !self.exists(&set, id) {
                    let logical = self
                        .table_by_set(&set)
                        .map(|t| t.logical)
                        .unwrap_or("entity");
                    return Err(error(
                        404,
                        "0x80040217",
                        &format!("{logical} With Id = {id} Does Not Exist"),
                    ));
                }
                let lookup = nav.split('_').next().unwrap_or(nav);
                out.insert(format!("_{lookup}_value"), json!(id.to_string()));
                continue;
            }
            let Some(kind) = t.columns.get(k) else {
                return Err(payload_error(
                    t,
                    &format!(
                        "The property '{k}' does not exist on type 'Microsoft.Dynamics.CRM.{}'. Make sure to only use property names that are defined by the type or mark the type as open type.",
                        t.logical
                    ),
                ));
            };
            match kind {
                Kind::String(max) | Kind::Memo(max) => {
                    let s = v.as_str().ok_or_else(|| payload_error(t, &format!("Cannot convert the literal '{v}' to the expected type 'Edm.String'.")))?;
                    if s.encode_utf16().count() > *max {
                        return Err(error(
                            400,
                            "0x80044331",
                            &format!(
                                "A validation error occurred.  The length of the '{k}' attribute of the '{}' entity exceeded the maximum allowed length of '{max}'.",
                                t.logical
                            ),
                        ));
                    }
                }
                Kind::Picklist(options) => {
                    let n = match v {
                        Value::Number(n) => n.as_i64().ok_or_else(|| payload_error(t, &format!("Cannot convert the literal '{n}' to the expected type 'Edm.Int32'.")))?,
                        Value::Null => {
                            out.insert(k.clone(), Value::Null);
                            continue;
                        }
                        other => {
                            let lit = other.as_str().map(str::to_string).unwrap_or_else(|| other.to_string());
                            return Err(payload_error(t, &format!("Cannot convert the literal '{lit}' to the expected type 'Edm.Int32'.")));
                        }
                    };
                    if !options.iter().any(|(val, _)| *val == n) {
                        let accepted: Vec<String> =
                            options.iter().map(|(val, _)| val.to_string()).collect();
                        return Err(error(
                            400,
                            "0x8004431a",
                            &format!(
                                "A validation error occurred. The value {n} of '{k}' on record of type '{}' is outside the valid range. Accepted Values: {}",
                                t.logical,
                                accepted.join(",")
                            ),
                        ));
                    }
                }
                Kind::Integer => {
                    if !v.is_i64() {
                        return Err(payload_error(
                            t,
                            &format!(
                                "Cannot convert the literal '{v}' to the expected type 'Edm.Int32'."
                            ),
                        ));
                    }
                }
                Kind::Boolean => {
                    if !v.is_boolean() {
                        return Err(payload_error(
                            t,
                            &format!(
                                "Cannot convert the literal '{v}' to the expected type 'Edm.Boolean'."
                            ),
                        ));
                    }
                }
                Kind::Id | Kind::System => {}
            }
            out.insert(k.clone(), v.clone());
        }
        out.extend(derived);
        Ok(out)
    }

    fn add_to_queue(&mut self, queue: Uuid, req: &Req) -> Result<Resp, Resp> {
        let queue_table = self
            .tables
            .get("queue")
            .cloned()
            .ok_or_else(|| error(500, "", "schema"))?;
        self.require("AppendTo", &queue_table, None)?;
        if !self.exists("queues", queue) {
            return Err(not_found(&queue_table, queue));
        }
        let target = req
            .body
            .as_ref()
            .and_then(|b| b.get("Target"))
            .ok_or_else(|| error(400, "0x80040203", "Required parameter 'Target' is missing."))?;
        if target.get("@odata.type").and_then(Value::as_str)
            != Some("Microsoft.Dynamics.CRM.incident")
        {
            return Err(error(
                400,
                "0x80048d19",
                "A type named 'crmbaseentity' could not be resolved: '@odata.type' is required for the parameter 'Target'.",
            ));
        }
        let incident = target
            .get("incidentid")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| {
                error(
                    400,
                    "0x80040203",
                    "Target.incidentid is missing or invalid.",
                )
            })?;
        let it = self
            .tables
            .get("incident")
            .cloned()
            .ok_or_else(|| error(500, "", "schema"))?;
        if !self.exists("incidents", incident) {
            return Err(not_found(&it, incident));
        }
        self.check_add_to_queue(queue, incident)?;
        // One queue item per case: the same queue returns it, another queue moves it.
        let existing = self.records.get("queueitems").and_then(|m| {
            m.iter()
                .find(|(_, r)| {
                    r.get("_objectid_value").and_then(Value::as_str) == Some(&incident.to_string())
                })
                .map(|(id, _)| *id)
        });
        let item_id = existing.unwrap_or_else(Uuid::new_v4);
        let mut fields = Map::new();
        fields.insert("_queueid_value".into(), json!(queue.to_string()));
        fields.insert("_objectid_value".into(), json!(incident.to_string()));
        fields.insert("queueitemid".into(), json!(item_id.to_string()));
        self.records
            .entry("queueitems".into())
            .or_default()
            .insert(item_id, fields);
        Ok(Resp::json(
            200,
            json!({"@odata.context": format!("{}$metadata#Microsoft.Dynamics.CRM.AddToQueueResponse", self.api()), "QueueItemId": item_id.to_string()}),
        ))
    }

    fn metadata(&self, rest: &str) -> Result<Resp, Resp> {
        let entity = odata::quoted_arg(rest, "LogicalName=")
            .ok_or_else(|| error(400, "0x80060888", "Bad Request - Error in query syntax."))?;
        let t = self.tables.get(entity.as_str()).ok_or_else(|| {
            error(
                404,
                "0x80040217",
                &format!("Could not find entity with logical name {entity}."),
            )
        })?;
        let Some(attr_part) = rest.split_once("/Attributes(").map(|(_, a)| a) else {
            return Ok(Resp::json(
                200,
                json!({"LogicalName": t.logical, "EntitySetName": t.set, "PrimaryIdAttribute": t.key}),
            ));
        };
        let attr = odata::quoted_arg(attr_part, "LogicalName=")
            .ok_or_else(|| error(400, "0x80060888", "Bad Request - Error in query syntax."))?;
        let kind = t.columns.get(&attr).ok_or_else(|| {
            error(
                404,
                "0x80040217",
                &format!("Could not find attribute with logical name {attr} on entity {entity}."),
            )
        })?;
        let cast = attr_part
            .split_once(")/")
            .map(|(_, c)| c.split('?').next().unwrap_or(c));
        let base = json!({"LogicalName": attr, "AttributeType": kind.attribute_type(), "MetadataId": Uuid::new_v5(&Uuid::nil(), format!("{entity}.{attr}").as_bytes()).to_string()});
        match (cast, kind) {
            (None, _) => Ok(Resp::json(200, base)),
            (Some("Microsoft.Dynamics.CRM.StringAttributeMetadata"), Kind::String(max))
            | (Some("Microsoft.Dynamics.CRM.MemoAttributeMetadata"), Kind::Memo(max)) => {
                let mut v = base;
                v["MaxLength"] = json!(max);
                Ok(Resp::json(200, v))
            }
            (Some("Microsoft.Dynamics.CRM.PicklistAttributeMetadata"), Kind::Picklist(options)) => {
                let opts: Vec<Value> = options
                    .iter()
                    .map(|(v, l)| json!({"Value": v, "Label": {"LocalizedLabels": [{"Label": l, "LanguageCode": 1033}], "UserLocalizedLabel": {"Label": l, "LanguageCode": 1033}}}))
                    .collect();
                let mut v = base;
                v["OptionSet"] = json!({"Options": opts});
                Ok(Resp::json(200, v))
            }
            (Some(c), _) => Err(error(
                404,
                "0x80040217",
                &format!("The attribute {attr} is not of type {c}."),
            )),
        }
    }
}

fn not_found(t: &Table, id: Uuid) -> Resp {
    error(
        404,
        "0x80040217",
        &format!("{} With Id = {id} Does Not Exist", t.logical),
    )
}

fn payload_error(t: &Table, inner: &str) -> Resp {
    error(
        400,
        "0x80048d19",
        &format!(
            "Error identified in Payload provided by the user for Entity :'{}', For more information on this error please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293  ---->  InnerException : Microsoft.OData.ODataException: {inner}",
            t.set
        ),
    )
}

fn select_of(t: &Table, req: &Req) -> Result<Option<Vec<String>>, Resp> {
    let Some(sel) = req.query.get("$select") else {
        return Ok(None);
    };
    let cols: Vec<String> = sel
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    for c in &cols {
        if !t.columns.contains_key(c) && !c.starts_with('_') {
            return Err(error(
                400,
                "0x80060888",
                &format!(
                    "Could not find a property named '{c}' on type 'Microsoft.Dynamics.CRM.{}'.",
                    t.logical
                ),
            ));
        }
    }
    let mut cols = cols;
    cols.push(t.key.to_string());
    Ok(Some(cols))
}

fn project(r: &Map<String, Value>, select: &Option<Vec<String>>) -> Value {
    match select {
        None => Value::Object(r.clone()),
        Some(cols) => Value::Object(
            cols.iter()
                .filter_map(|c| r.get(c).map(|v| (c.clone(), v.clone())))
                .collect(),
        ),
    }
}
