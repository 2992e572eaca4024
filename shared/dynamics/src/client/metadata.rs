//! What the org says about itself: the application user's id (`WhoAmI`) and column metadata
//! (`EntityDefinitions(...)/Attributes(...)`: `MaxLength` of text columns, `AttributeType`,
//! choice options).

use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use super::DataverseClient;
use crate::error::{DynamicsError, api_error};
use crate::wire;

impl DataverseClient {
    /// `WhoAmI`: the application user's id.
    pub async fn who_am_i(&self) -> Result<Uuid, DynamicsError> {
        let v = self
            .get_json("WhoAmI")
            .await?
            .ok_or_else(|| DynamicsError::Decode("WhoAmI not found".into()))?;
        v.get("UserId")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| DynamicsError::Decode("WhoAmI without UserId".into()))
    }

    /// `MaxLength` of a string or memo column; `None` when the column does not exist.
    pub async fn max_length(
        &self,
        entity: &str,
        attribute: &str,
    ) -> Result<Option<usize>, DynamicsError> {
        self.text_max_length(entity, attribute, true).await
    }

    /// [`DataverseClient::max_length`] asking first as a memo column (`memo`) or as a string
    /// column: one request when the column has the expected type, two when not.
    pub async fn text_max_length(
        &self,
        entity: &str,
        attribute: &str,
        memo: bool,
    ) -> Result<Option<usize>, DynamicsError> {
        let kinds = if memo {
            ["MemoAttributeMetadata", "StringAttributeMetadata"]
        } else {
            ["StringAttributeMetadata", "MemoAttributeMetadata"]
        };
        for kind in kinds {
            let path = format!(
                "EntityDefinitions(LogicalName='{entity}')/Attributes(LogicalName='{attribute}')/Microsoft.Dynamics.CRM.{kind}?$select=MaxLength"
            );
            let a = self.send(Method::GET, &path, &[], None).await?;
            match a.status.as_u16() {
                200 => {
                    let v: Value = serde_json::from_str(&a.body)
                        .map_err(|e| DynamicsError::Decode(e.to_string()))?;
                    return Ok(v
                        .get("MaxLength")
                        .and_then(Value::as_u64)
                        .map(|n| n as usize));
                }
                400 | 404 => continue,
                s => return Err(api_error(s, &a.body)),
            }
        }
        Ok(None)
    }

    /// The `AttributeType` of a column (`String`, `Picklist`, ...); `None` when it does not exist.
    pub async fn attribute_type(
        &self,
        entity: &str,
        attribute: &str,
    ) -> Result<Option<String>, DynamicsError> {
        let path = format!(
            "EntityDefinitions(LogicalName='{entity}')/Attributes(LogicalName={})?$select=LogicalName,AttributeType",
            wire::literal(attribute)
        );
        let a = self.send(Method::GET, &path, &[], None).await?;
        match a.status.as_u16() {
            200 => {
                let v: Value = serde_json::from_str(&a.body)
                    .map_err(|e| DynamicsError::Decode(e.to_string()))?;
                Ok(v.get("AttributeType")
                    .and_then(Value::as_str)
                    .map(str::to_string))
            }
            400 | 404 => Ok(None),
            s => Err(api_error(s, &a.body)),
        }
    }

    /// Options `(value, label)` of a choice column; `None` when it is not a choice column.
    pub async fn options(
        &self,
        entity: &str,
        attribute: &str,
    ) -> Result<Option<Vec<(i64, String)>>, DynamicsError> {
        let path = format!(
            "EntityDefinitions(LogicalName='{entity}')/Attributes(LogicalName={})/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)",
            wire::literal(attribute)
        );
        let a = self.send(Method::GET, &path, &[], None).await?;
        match a.status.as_u16() {
            200 => {
                let v: Value = serde_json::from_str(&a.body)
                    .map_err(|e| DynamicsError::Decode(e.to_string()))?;
                let opts = v
                    .pointer("/OptionSet/Options")
                    .and_then(Value::as_array)
                    .map(|o| {
                        o.iter()
                            .filter_map(|opt| {
                                let value = opt.get("Value")?.as_i64()?;
                                let label = opt
                                    .pointer("/Label/UserLocalizedLabel/Label")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_string();
                                Some((value, label))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Some(opts))
            }
            400 | 404 => Ok(None),
            s => Err(api_error(s, &a.body)),
        }
    }
}
