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
            let rest = format!("/Microsoft.Dynamics.CRM.{kind}?$select=MaxLength");
            if let Some(v) = self.attribute_metadata(entity, attribute, &rest).await? {
                return Ok(v
                    .get("MaxLength")
                    .and_then(Value::as_u64)
                    .map(|n| n as usize));
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
        let rest = "?$select=LogicalName,AttributeType";
        Ok(self
            .attribute_metadata(entity, attribute, rest)
            .await?
            .and_then(|v| {
                v.get("AttributeType")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }))
    }

    /// Options `(value, label)` of a choice column; `None` when it is not a choice column.
    pub async fn options(
        &self,
        entity: &str,
        attribute: &str,
    ) -> Result<Option<Vec<(i64, String)>>, DynamicsError> {
        let rest = "/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)";
        let Some(v) = self.attribute_metadata(entity, attribute, rest).await? else {
            return Ok(None);
        };
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

    /// One column's metadata: `EntityDefinitions(..)/Attributes(..)` then `rest` (a cast and
    /// the query); `None` when the column (or the cast) does not exist (400 or 404).
    async fn attribute_metadata(
        &self,
        entity: &str,
        attribute: &str,
        rest: &str,
    ) -> Result<Option<Value>, DynamicsError> {
        let path = format!(
            "EntityDefinitions(LogicalName={})/Attributes(LogicalName={}){rest}",
            wire::literal(entity),
            wire::literal(attribute)
        );
        let a = self.send(Method::GET, &path, &[], None).await?;
        match a.status.as_u16() {
            200 => serde_json::from_str(&a.body)
                .map(Some)
                .map_err(|e| DynamicsError::Decode(e.to_string())),
            400 | 404 => Ok(None),
            s => Err(api_error(s, &a.body)),
        }
    }
}
