//! The tables and their rows: seeding, lookups, reads (one record or a filtered list, with
//! `$select` and `$top`) and `EntityDefinitions` attribute metadata read from the schema.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{Db, Req, Resp, error, not_found};
use crate::odata;
use crate::schema::{Kind, Table};

impl Db {
    pub(super) fn table_by_set(&self, set: &str) -> Option<&Table> {
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

    pub(super) fn exists(&self, set: &str, id: Uuid) -> bool {
        self.records.get(set).is_some_and(|m| m.contains_key(&id))
    }

    pub(super) fn list(&self, t: &Table, req: &Req) -> Result<Resp, Resp> {
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

    pub(super) fn read(&self, t: &Table, id: Uuid, req: &Req) -> Result<Resp, Resp> {
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

    pub(super) fn metadata(&self, rest: &str) -> Result<Resp, Resp> {
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
