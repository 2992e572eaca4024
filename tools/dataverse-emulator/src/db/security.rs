//! Security roles: the application user's privileges with their depths, enforced on every
//! request, and the `RetrieveUserPrivileges` function.
//!
//! As Dataverse does (reference/dataverse.md A.1): a privilege is `prv` + verb + table
//! (`prvCreateIncident`, `prvAppendToContact`, `prvCreateNote`); queue items have no privileges
//! of their own (`prvReadQueue`, `prvAppendToQueue` cover them); the depth is `Basic` (the
//! user's own records), `Local` (its business unit), `Deep` (the unit and its children) or
//! `Global` (the organization). Enforced:
//! - reads: `Read`, rows outside the depth are left out of lists, 403 on one by id;
//! - creates: `Create` reaching the new record's owner; an owner other than the caller also
//!   needs `Assign` (UNCONFIRMED that create-with-owner checks Assign: the strict reading);
//! - updates and deletes: `Write` / `Delete` reaching the record; an owner change needs `Assign`;
//! - every `@odata.bind` except the owner: `Append` on the record written and `AppendTo`
//!   reaching the target (e.g. a case's customer: `prvAppendIncident` + `prvAppendToContact`);
//! - `AddToQueue`: `prvAppendToQueue` reaching the queue and `prvReadIncident` on the case.
//!
//! A missing or too narrow privilege answers 403 `0x80040220` naming it, as Dataverse does.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{Db, Resp, error};
use crate::odata;
use crate::schema::Table;

/// How far a privilege reaches, narrowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Depth {
    /// The user's own records.
    Basic,
    /// The user's business unit.
    Local,
    /// The business unit and its children.
    Deep,
    /// The whole organization.
    Global,
}

impl Depth {
    /// The Web API name of the depth.
    pub fn as_str(self) -> &'static str {
        match self {
            Depth::Basic => "Basic",
            Depth::Local => "Local",
            Depth::Deep => "Deep",
            Depth::Global => "Global",
        }
    }

    /// Parse a Web API name (`Basic`, `Local`, `Deep`, `Global`).
    pub fn parse(s: &str) -> Option<Depth> {
        [Depth::Basic, Depth::Local, Depth::Deep, Depth::Global]
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s))
    }
}

/// The application user's security role: privilege name -> depth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Privileges held.
    pub privileges: BTreeMap<String, Depth>,
}

const VERBS: [&str; 8] = [
    "Create", "Read", "Write", "Delete", "Append", "AppendTo", "Assign", "Share",
];
const TABLES: [&str; 8] = [
    "Incident",
    "Contact",
    "Note",
    "Queue",
    "Account",
    "User",
    "Team",
    "BusinessUnit",
];

impl Role {
    /// Every verb on every emulated table at Organization depth (the default: existing tests
    /// and the demo run with a complete role).
    pub fn full() -> Role {
        let mut privileges = BTreeMap::new();
        for t in TABLES {
            for v in VERBS {
                privileges.insert(format!("prv{v}{t}"), Depth::Global);
            }
        }
        Role { privileges }
    }

    /// This role without `privilege`.
    pub fn without(mut self, privilege: &str) -> Role {
        self.privileges.remove(privilege);
        self
    }

    /// This role with `privilege` at `depth`.
    pub fn with(mut self, privilege: &str, depth: Depth) -> Role {
        self.privileges.insert(privilege.to_string(), depth);
        self
    }
}

/// Owner and business unit of a record (what a depth is measured against).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope {
    pub(crate) owner: Option<Uuid>,
    pub(crate) business_unit: Uuid,
}

fn uuid_field(r: &Map<String, Value>, key: &str) -> Option<Uuid> {
    r.get(key)
        .and_then(Value::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
}

impl Db {
    /// The scope of a stored record: its owner and owning business unit (users and teams:
    /// their own unit); records seeded without them belong to the root unit, owner unknown.
    pub(crate) fn scope_of(&self, t: &Table, r: &Map<String, Value>) -> Scope {
        let own = uuid_field(r, t.key);
        match t.logical {
            "systemuser" | "team" => Scope {
                owner: own,
                business_unit: uuid_field(r, "_businessunitid_value").unwrap_or(self.business_unit),
            },
            "businessunit" => Scope {
                owner: None,
                business_unit: own.unwrap_or(self.business_unit),
            },
            _ => Scope {
                owner: uuid_field(r, "_ownerid_value"),
                business_unit: uuid_field(r, "_owningbusinessunit_value")
                    .unwrap_or(self.business_unit),
            },
        }
    }

    /// The scope a new record gets when `owner` (a user or team id) owns it.
    pub(crate) fn owner_scope(&self, owner: Uuid) -> Scope {
        let bu = ["systemusers", "teams"]
            .iter()
            .find_map(|set| self.records.get(*set).and_then(|m| m.get(&owner)))
            .and_then(|r| uuid_field(r, "_businessunitid_value"))
            .unwrap_or(self.business_unit);
        Scope {
            owner: Some(owner),
            business_unit: bu,
        }
    }

    fn reaches(&self, depth: Depth, scope: Scope) -> bool {
        match depth {
            Depth::Global => true,
            Depth::Deep => {
                // Walk up from the record's unit: reached when the user's unit is on the way.
                let mut bu = Some(scope.business_unit);
                for _ in 0..32 {
                    match bu {
                        Some(b) if b == self.business_unit => return true,
                        Some(b) => {
                            bu = self
                                .records
                                .get("businessunits")
                                .and_then(|m| m.get(&b))
                                .and_then(|r| uuid_field(r, "_parentbusinessunitid_value"))
                        }
                        None => return false,
                    }
                }
                false
            }
            Depth::Local => scope.business_unit == self.business_unit,
            Depth::Basic => scope.owner == Some(self.user_id),
        }
    }

    /// `prv<verb><table>` held, and (with a scope) deep enough to reach that record.
    pub(crate) fn require(&self, verb: &str, t: &Table, scope: Option<Scope>) -> Result<(), Resp> {
        let name = format!("prv{verb}{}", t.privilege);
        let held = self.role.privileges.get(&name).copied();
        let ok = match (held, scope) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(d), Some(s)) => self.reaches(d, s),
        };
        if ok {
            return Ok(());
        }
        Err(error(
            403,
            "0x80040220",
            &format!(
                "Principal user (Id={}, type=8, roleCount=1, privilegeCount={}, accessMode=4, MetadataCachePrivilegesCount=0, BusinessUnitId={}), is missing {name} privilege (Id={}) on OTC={} for entity '{}'. context.Caller={}",
                self.user_id,
                self.role.privileges.len(),
                self.business_unit,
                Uuid::new_v5(&Uuid::nil(), name.as_bytes()),
                t.otc,
                t.logical,
                self.user_id
            ),
        ))
    }

    /// Read access to one stored record.
    pub(crate) fn can_read(&self, t: &Table, r: &Map<String, Value>) -> bool {
        self.require("Read", t, Some(self.scope_of(t, r))).is_ok()
    }

    /// Owner given in a write body (`ownerid@odata.bind`), if any.
    pub(crate) fn bound_owner(body: &Map<String, Value>) -> Option<Uuid> {
        body.get("ownerid@odata.bind")
            .and_then(Value::as_str)
            .and_then(odata::parse_bind)
            .map(|(_, id)| id)
    }

    /// Create: `Create` reaching the new owner; `Assign` when the owner is not the caller.
    pub(crate) fn check_create(&self, t: &Table, body: &Map<String, Value>) -> Result<Scope, Resp> {
        let owner = Db::bound_owner(body).unwrap_or(self.user_id);
        let scope = self.owner_scope(owner);
        self.require("Create", t, Some(scope))?;
        if owner != self.user_id {
            self.require("Assign", t, None)?;
        }
        Ok(scope)
    }

    /// Update of an existing record: `Write` reaching it; `Assign` when the owner changes.
    pub(crate) fn check_update(
        &self,
        t: &Table,
        existing: &Map<String, Value>,
        body: &Map<String, Value>,
    ) -> Result<Scope, Resp> {
        let scope = self.scope_of(t, existing);
        self.require("Write", t, Some(scope))?;
        if let Some(owner) = Db::bound_owner(body)
            && Some(owner) != scope.owner
        {
            self.require("Assign", t, Some(scope))?;
        }
        Ok(scope)
    }

    /// Every bind but the owner: `Append` on the record written, `AppendTo` on the target.
    /// Targets are known to exist (validation ran first).
    pub(crate) fn check_binds(
        &self,
        t: &Table,
        body: &Map<String, Value>,
        source: Scope,
    ) -> Result<(), Resp> {
        for (k, v) in body {
            let Some(nav) = k.strip_suffix("@odata.bind") else {
                continue;
            };
            if nav == "ownerid" {
                continue;
            }
            let Some((set, id)) = v.as_str().and_then(odata::parse_bind) else {
                continue;
            };
            self.require("Append", t, Some(source))?;
            let Some(target_table) = self.tables.values().find(|x| x.set == set) else {
                continue;
            };
            let target_scope = self
                .records
                .get(&set)
                .and_then(|m| m.get(&id))
                .map(|r| self.scope_of(target_table, r));
            self.require("AppendTo", target_table, target_scope)?;
        }
        Ok(())
    }

    /// `AddToQueue`: `prvAppendToQueue` reaching the queue, `prvReadIncident` reaching the case.
    pub(crate) fn check_add_to_queue(&self, queue: Uuid, incident: Uuid) -> Result<(), Resp> {
        let (Some(qt), Some(it)) = (self.tables.get("queue"), self.tables.get("incident")) else {
            return Err(error(500, "", "schema"));
        };
        let scope = |t: &Table, set: &str, id: Uuid| {
            self.records
                .get(set)
                .and_then(|m| m.get(&id))
                .map(|r| self.scope_of(t, r))
        };
        self.require("AppendTo", qt, scope(qt, "queues", queue))?;
        self.require("Read", it, scope(it, "incidents", incident))
    }

    /// `systemusers(<id>)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()`.
    pub(crate) fn retrieve_user_privileges(&self, user: Uuid) -> Result<Resp, Resp> {
        let t = self
            .tables
            .get("systemuser")
            .cloned()
            .ok_or_else(|| error(500, "", "schema"))?;
        self.require("Read", &t, None)?;
        let Some(r) = self.records.get("systemusers").and_then(|m| m.get(&user)) else {
            return Err(error(
                404,
                "0x80040217",
                &format!("systemuser With Id = {user} Does Not Exist"),
            ));
        };
        self.require("Read", &t, Some(self.scope_of(&t, r)))?;
        let rows: Vec<Value> = if user == self.user_id {
            self.role
                .privileges
                .iter()
                .map(|(name, depth)| {
                    json!({
                        "Depth": depth.as_str(),
                        "PrivilegeId": Uuid::new_v5(&Uuid::nil(), name.as_bytes()).to_string(),
                        "BusinessUnitId": self.business_unit.to_string(),
                        "PrivilegeName": name,
                        "RecordFilterId": Value::Null,
                        "RecordFilterUniqueName": Value::Null,
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(Resp::json(
            200,
            json!({
                "@odata.context": format!("{}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse", self.base_url),
                "RolePrivileges": rows,
            }),
        ))
    }
}
