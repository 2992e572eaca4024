//! Reading the application user's security without writing anything: `WhoAmI` with its
//! business unit, `RetrieveUserPrivileges`, and who owns a record (for privilege depth).

use serde_json::Value;
use uuid::Uuid;

use crate::client::DataverseClient;
use crate::error::DynamicsError;

/// How far a privilege reaches (Dataverse's `PrivilegeDepth`), narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Depth {
    /// The user's own records ("User").
    Basic,
    /// Records of the user's business unit ("Business Unit").
    Local,
    /// The business unit and its child units ("Parent: Child Business Units").
    Deep,
    /// Every record in the organization ("Organization").
    Global,
}

impl Depth {
    /// Parse the `Depth` of a `RolePrivilege`: its name (`"Global"`, as the Web API serializes
    /// the enum) or its number (0..3). `RecordFilter` (4) and anything else is `None`.
    pub fn parse(v: &Value) -> Option<Depth> {
        match v {
            Value::String(s) => match s.as_str() {
                "Basic" => Some(Depth::Basic),
                "Local" => Some(Depth::Local),
                "Deep" => Some(Depth::Deep),
                "Global" => Some(Depth::Global),
                other => other.parse::<i64>().ok().and_then(Depth::from_number),
            },
            Value::Number(n) => n.as_i64().and_then(Depth::from_number),
            _ => None,
        }
    }

    fn from_number(n: i64) -> Option<Depth> {
        match n {
            0 => Some(Depth::Basic),
            1 => Some(Depth::Local),
            2 => Some(Depth::Deep),
            3 => Some(Depth::Global),
            _ => None,
        }
    }

    /// The Web API name (`Basic`, `Local`, `Deep`, `Global`).
    pub fn as_str(self) -> &'static str {
        match self {
            Depth::Basic => "Basic",
            Depth::Local => "Local",
            Depth::Deep => "Deep",
            Depth::Global => "Global",
        }
    }

    /// The label of the security role editor (`User`, `Business Unit`, ...).
    pub fn label(self) -> &'static str {
        match self {
            Depth::Basic => "User",
            Depth::Local => "Business Unit",
            Depth::Deep => "Parent: Child Business Units",
            Depth::Global => "Organization",
        }
    }
}

/// One privilege the user holds, at its widest depth over all roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrivilege {
    /// e.g. `prvCreateIncident`.
    pub name: String,
    /// Widest depth granted.
    pub depth: Depth,
}

/// Who owns a record, as far as privilege depth is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ownership {
    /// The owning user or team (`None` for a user or team record itself).
    pub owner: Option<Uuid>,
    /// The owning business unit.
    pub business_unit: Option<Uuid>,
}

/// `WhoAmI`: the application user and its business unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Me {
    /// `UserId`.
    pub user_id: Uuid,
    /// `BusinessUnitId`.
    pub business_unit_id: Option<Uuid>,
}

fn uuid_at(v: &Value, key: &str) -> Option<Uuid> {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
}

impl DataverseClient {
    /// `WhoAmI` with the business unit.
    pub async fn whoami_details(&self) -> Result<Me, DynamicsError> {
        let v = self
            .get_json("WhoAmI")
            .await?
            .ok_or_else(|| DynamicsError::Decode("WhoAmI not found".into()))?;
        Ok(Me {
            user_id: uuid_at(&v, "UserId")
                .ok_or_else(|| DynamicsError::Decode("WhoAmI without UserId".into()))?,
            business_unit_id: uuid_at(&v, "BusinessUnitId"),
        })
    }

    /// `systemusers(<id>)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()`: every privilege the
    /// user holds through its roles, one entry per name at the widest depth. A read; nothing is
    /// written. Team-inherited privileges are reported at Basic depth by Dataverse.
    pub async fn user_privileges(&self, user: Uuid) -> Result<Vec<UserPrivilege>, DynamicsError> {
        let v = self
            .get_json(&format!(
                "systemusers({user})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"
            ))
            .await?
            .ok_or_else(|| DynamicsError::NotFound {
                message: format!("systemuser With Id = {user} Does Not Exist"),
            })?;
        let rows = v
            .get("RolePrivileges")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                DynamicsError::Decode("RetrieveUserPrivileges without RolePrivileges".into())
            })?;
        let mut out: Vec<UserPrivilege> = Vec::new();
        for r in rows {
            let (Some(name), Some(depth)) = (
                r.get("PrivilegeName").and_then(Value::as_str),
                r.get("Depth").and_then(Depth::parse),
            ) else {
                continue;
            };
            match out.iter_mut().find(|p| p.name == name) {
                Some(p) => p.depth = p.depth.max(depth),
                None => out.push(UserPrivilege {
                    name: name.to_string(),
                    depth,
                }),
            }
        }
        Ok(out)
    }

    /// Owner and business unit of a queue, user or team; `None` when it does not exist.
    pub async fn ownership(
        &self,
        entity_set: &str,
        id: Uuid,
    ) -> Result<Option<Ownership>, DynamicsError> {
        let (select, owned) = match entity_set {
            "queues" => ("_ownerid_value,_owningbusinessunit_value", true),
            "systemusers" | "teams" => ("_businessunitid_value", false),
            other => return Err(DynamicsError::Config(format!("unknown entity set {other}"))),
        };
        let Some(v) = self
            .get_json(&format!("{entity_set}({id})?$select={select}"))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(if owned {
            Ownership {
                owner: uuid_at(&v, "_ownerid_value"),
                business_unit: uuid_at(&v, "_owningbusinessunit_value"),
            }
        } else {
            Ownership {
                owner: None,
                business_unit: uuid_at(&v, "_businessunitid_value"),
            }
        }))
    }

    /// The parent of a business unit (`None` for the root).
    pub async fn parent_business_unit(&self, bu: Uuid) -> Result<Option<Uuid>, DynamicsError> {
        Ok(self
            .get_json(&format!(
                "businessunits({bu})?$select=_parentbusinessunitid_value"
            ))
            .await?
            .and_then(|v| uuid_at(&v, "_parentbusinessunitid_value")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_parses_names_and_numbers() {
        let cases = [
            (serde_json::json!("Global"), Some(Depth::Global)),
            (serde_json::json!("Basic"), Some(Depth::Basic)),
            (serde_json::json!(2), Some(Depth::Deep)),
            (serde_json::json!("1"), Some(Depth::Local)),
            (serde_json::json!("RecordFilter"), None),
            (serde_json::json!(4), None),
            (Value::Null, None),
        ];
        for (input, expected) in cases {
            assert_eq!(Depth::parse(&input), expected, "{input:?}");
        }
        assert!(Depth::Basic < Depth::Local && Depth::Deep < Depth::Global);
    }
}
