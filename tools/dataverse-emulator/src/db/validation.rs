//! Strict checks of incoming write bodies, column by column as Dataverse does: unknown
//! columns and navigation properties, bind targets, string lengths, choice values and types,
//! with the documented codes and error bodies.

use serde_json::{Map, Value, json};

use super::{Db, Resp, error};
use crate::odata;
use crate::schema::{Kind, Table};

impl Db {
    /// Check a write body column by column, as Dataverse does, and turn binds into lookups.
    pub(super) fn validate(
        &self,
        t: &Table,
        body: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Resp> {
        let derived = match t.logical {
            "annotation" => super::files::check_note(self, body)?,
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
