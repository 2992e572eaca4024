//! The writes: create by POST (client-chosen id, 412 on a duplicate), PATCH as update or
//! upsert (`If-None-Match: *`, `If-Match: *`, incident state rules), DELETE, the answer with or
//! without `Prefer: return=representation`, and the `AddToQueue` action.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{Db, Req, Resp, error, not_found};
use crate::schema::Table;

impl Db {
    pub(super) fn create_post(&mut self, t: &Table, req: &Req) -> Result<Resp, Resp> {
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

    pub(super) fn patch(&mut self, t: &Table, id: Uuid, req: &Req) -> Result<Resp, Resp> {
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
                super::states::check_incident_update(&current, &body)?;
            }
            let fields = self.validate(t, &body)?;
            self.check_binds(t, &body, scope)?;
            if let Some(r) = self.records.get_mut(t.set).and_then(|m| m.get_mut(&id)) {
                for (k, v) in fields {
                    r.insert(k, v);
                }
                r.insert("modifiedon".into(), json!(super::states::now_utc()));
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
        fields.insert("modifiedon".into(), json!(super::states::now_utc()));
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

    pub(super) fn add_to_queue(&mut self, queue: Uuid, req: &Req) -> Result<Resp, Resp> {
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

    /// `DELETE <set>(<id>)`: needs the Delete privilege on the record.
    pub(super) fn delete(&mut self, t: &Table, id: Uuid) -> Result<Resp, Resp> {
        let set = t.set;
        self.require("Delete", t, None)?;
        if let Some(r) = self.records.get(set).and_then(|m| m.get(&id)) {
            self.require("Delete", t, Some(self.scope_of(t, r)))?;
        }
        match self.records.get_mut(set).and_then(|r| r.remove(&id)) {
            Some(_) => Ok(Resp::empty(204)),
            None => Err(not_found(t, id)),
        }
    }
}
