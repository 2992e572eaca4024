//! Contacts: the customer found by email (the oldest of several) and a contact created
//! create-only under a client-chosen id.

use serde_json::Value;
use uuid::Uuid;

use super::DataverseClient;
use crate::error::DynamicsError;
use crate::wire;

impl DataverseClient {
    /// The contact with this email (case-insensitive); the oldest when there are several.
    pub async fn find_contact(&self, email: &str) -> Result<Option<Uuid>, DynamicsError> {
        let v = self
            .get_json(&wire::contact_by_email_path(email))
            .await?
            .unwrap_or(Value::Null);
        let mut found: Vec<(String, Uuid)> = v
            .get("value")
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| {
                        let id = r
                            .get("contactid")
                            .and_then(Value::as_str)
                            .and_then(|s| Uuid::parse_str(s).ok())?;
                        let created = r
                            .get("createdon")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string();
                        Some((created, id))
                    })
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        Ok(found.first().map(|(_, id)| *id))
    }

    /// Create a contact with a client-chosen id, create-only. Ok(false) when it already exists.
    pub async fn create_contact(
        &self,
        id: Uuid,
        first: Option<&str>,
        last: &str,
        email: &str,
        description: &str,
    ) -> Result<bool, DynamicsError> {
        let mut body = serde_json::json!({"lastname": last, "emailaddress1": email, "description": description});
        if let Some(f) = first {
            body["firstname"] = Value::String(f.to_string());
        }
        self.create_only(&format!("contacts({id})"), &body).await
    }
}
