//! The privileges the configured features need, checked against the application user's
//! security roles (`RetrieveUserPrivileges`) without writing anything, so `verify` catches a
//! `403 prvCreateIncident` before the first handoff does.
//!
//! What a handoff does, and what it needs (names as Microsoft spells them, reference
//! dataverse.md A.1):
//!
//! | step | privileges |
//! |---|---|
//! | find the contact by email | `prvReadContact` (Organization: contacts belong to anyone) |
//! | create the contact | `prvCreateContact` |
//! | create the case, linked to the contact | `prvCreateIncident`, `prvAppendIncident`, `prvAppendToContact` |
//! | read it back (ticket number, state of the case for follow-ups) | `prvReadIncident` |
//! | reactivate / update the case | `prvWriteIncident` |
//! | notes (transcript, follow-ups) | `prvCreateNote`, `prvReadNote`, `prvAppendNote`, `prvAppendToNote`, `prvAppendToIncident` |
//! | owner set (`DEFAULT_OWNER_ID`) | `prvAssignIncident`; the case privileges must reach that owner |
//! | queue set (`DEFAULT_QUEUE_ID`) | `prvReadQueue`, `prvAppendToQueue` reaching the queue (queue items have no privileges of their own) |
//!
//! UNCONFIRMED, read strictly: that create-with-owner checks `prvAssignIncident`, and which
//! side of a lookup needs Append vs AppendTo (both are required here).

use dynamics::{DataverseClient, Depth, DynamicsError, Me, Owner, Ownership, UserPrivilege};
use uuid::Uuid;

use crate::check::Check;
use crate::handoff::Settings;

/// Whose records a privilege has to reach.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reach {
    /// Records the application user creates and owns: any depth.
    Own,
    /// Records owned by the configured owner (`DEFAULT_OWNER_ID`).
    Owner,
    /// The configured queue.
    Queue,
    /// Records anyone may own (existing contacts): Organization, else a warning.
    Anyone,
}

/// One privilege a feature needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// e.g. `prvCreateIncident`.
    pub privilege: &'static str,
    /// Table as the security role editor shows it (`Case`, `Contact`, `Note`, `Queue`).
    pub table: &'static str,
    /// Column of the role editor (`Create`, `Append To`, ...).
    pub verb: &'static str,
    /// What mailcase does with it.
    pub why: &'static str,
    reach: Reach,
}

fn need(
    privilege: &'static str,
    table: &'static str,
    verb: &'static str,
    why: &'static str,
    reach: Reach,
) -> Need {
    Need {
        privilege,
        table,
        verb,
        why,
        reach,
    }
}

/// Every privilege the configured features need (queue and owner only when set).
pub fn needs(settings: Option<&Settings>) -> Vec<Need> {
    let owner_set = settings.is_some_and(|s| s.owner.is_some());
    let case = if owner_set { Reach::Owner } else { Reach::Own };
    let mut out = vec![
        need(
            "prvReadContact",
            "Contact",
            "Read",
            "find the customer's contact by email",
            Reach::Anyone,
        ),
        need(
            "prvCreateContact",
            "Contact",
            "Create",
            "create the contact of a new customer",
            Reach::Own,
        ),
        need(
            "prvAppendToContact",
            "Contact",
            "Append To",
            "link each case to its contact",
            Reach::Anyone,
        ),
        need(
            "prvCreateIncident",
            "Case",
            "Create",
            "create the case",
            case.clone(),
        ),
        need(
            "prvReadIncident",
            "Case",
            "Read",
            "read the case back (ticket number, state for follow-ups)",
            case.clone(),
        ),
        need(
            "prvWriteIncident",
            "Case",
            "Write",
            "reactivate or update a case",
            case.clone(),
        ),
        need(
            "prvAppendIncident",
            "Case",
            "Append",
            "link the case to its contact",
            case.clone(),
        ),
        need(
            "prvAppendToIncident",
            "Case",
            "Append To",
            "attach notes (full transcript, follow-ups) to the case",
            case,
        ),
        need(
            "prvCreateNote",
            "Note",
            "Create",
            "write notes on the case",
            Reach::Own,
        ),
        need("prvReadNote", "Note", "Read", "read notes back", Reach::Own),
        need(
            "prvAppendNote",
            "Note",
            "Append",
            "link a note to its case",
            Reach::Own,
        ),
        need(
            "prvAppendToNote",
            "Note",
            "Append To",
            "attach to notes",
            Reach::Own,
        ),
    ];
    if owner_set {
        out.push(need(
            "prvAssignIncident",
            "Case",
            "Assign",
            "give new cases to DEFAULT_OWNER_ID",
            Reach::Own,
        ));
    }
    if settings.is_some_and(|s| s.queue_id.is_some()) {
        out.push(need(
            "prvReadQueue",
            "Queue",
            "Read",
            "read the queue (and its queue items)",
            Reach::Queue,
        ));
        out.push(need(
            "prvAppendToQueue",
            "Queue",
            "Append To",
            "add each case to DEFAULT_QUEUE_ID (creates its queue item)",
            Reach::Queue,
        ));
    }
    out
}

/// Where the application user stands, and the records the needs have to reach.
struct Targets {
    me: Me,
    owner: Option<Ownership>,
    queue: Option<Ownership>,
    /// Business units from the owner's / queue's up to the root (for Deep).
    ancestors: Vec<(Uuid, Vec<Uuid>)>,
}

impl Targets {
    /// The narrowest depth that reaches `scope`; `None` when unknown.
    fn needed(&self, scope: Option<&Ownership>) -> Option<Depth> {
        let scope = scope?;
        if scope.owner == Some(self.me.user_id) {
            return Some(Depth::Basic);
        }
        let (Some(mine), Some(theirs)) = (self.me.business_unit_id, scope.business_unit) else {
            return None;
        };
        if mine == theirs {
            return Some(Depth::Local);
        }
        let chain = self.ancestors.iter().find(|(b, _)| *b == theirs)?;
        Some(if chain.1.contains(&mine) {
            Depth::Deep
        } else {
            Depth::Global
        })
    }
}

async fn ancestors(crm: &DataverseClient, from: Uuid) -> Vec<Uuid> {
    let mut out = Vec::new();
    let mut bu = from;
    for _ in 0..16 {
        match crm.parent_business_unit(bu).await {
            Ok(Some(p)) if !out.contains(&p) => {
                out.push(p);
                bu = p;
            }
            _ => break,
        }
    }
    out
}

fn role_path(n: &Need, depth: Depth) -> String {
    format!(
        "In the application user's security role (Power Platform admin center > Environments > your environment > Settings > Users + permissions > Security roles), set {} > {} to {} depth or wider ({}).",
        n.table,
        n.verb,
        depth.label(),
        n.privilege
    )
}

/// The privilege checks: one `privileges` summary, plus `privileges.<name>` for each problem.
/// Reads only: `WhoAmI`, `RetrieveUserPrivileges`, the owner's and queue's business units.
pub async fn check(crm: &DataverseClient, settings: Option<&Settings>) -> Vec<Check> {
    let me = match crm.whoami_details().await {
        Ok(me) => me,
        Err(e) => {
            return vec![Check::fail(
                "privileges",
                format!("WhoAmI failed: {e}"),
                e.fix(),
            )];
        }
    };
    let held: Vec<UserPrivilege> = match crm.user_privileges(me.user_id).await {
        Ok(h) => h,
        Err(e) => {
            let fix = match &e {
                DynamicsError::Privilege { .. } => format!(
                    "{} (verify reads the application user's privileges with RetrieveUserPrivileges, which needs User: Read.)",
                    e.fix()
                ),
                other => other.fix(),
            };
            return vec![Check::fail(
                "privileges",
                format!("cannot read the application user's privileges: {e}"),
                fix,
            )];
        }
    };
    let owner_scope = match settings.and_then(|s| s.owner) {
        None => None,
        Some(Owner::User(id)) if id == me.user_id => Some(Ownership {
            owner: Some(id),
            business_unit: me.business_unit_id,
        }),
        Some(owner) => {
            let (set, id) = match owner {
                Owner::User(id) => ("systemusers", id),
                Owner::Team(id) => ("teams", id),
            };
            crm.ownership(set, id)
                .await
                .ok()
                .flatten()
                .map(|o| Ownership {
                    owner: Some(id),
                    ..o
                })
        }
    };
    let queue_scope = match settings.and_then(|s| s.queue_id) {
        Some(q) => crm.ownership("queues", q).await.ok().flatten(),
        None => None,
    };
    let mut targets = Targets {
        me,
        owner: owner_scope,
        queue: queue_scope,
        ancestors: Vec::new(),
    };
    for bu in [owner_scope, queue_scope]
        .into_iter()
        .flatten()
        .filter_map(|o| o.business_unit)
    {
        if Some(bu) != me.business_unit_id && !targets.ancestors.iter().any(|(b, _)| *b == bu) {
            let chain = ancestors(crm, bu).await;
            targets.ancestors.push((bu, chain));
        }
    }
    let needs = needs(settings);
    let mut problems = Vec::new();
    let mut failed = 0;
    for n in &needs {
        let depth = held.iter().find(|h| h.name == n.privilege).map(|h| h.depth);
        let name = format!("privileges.{}", n.privilege);
        let Some(depth) = depth else {
            failed += 1;
            let wanted = match n.reach {
                Reach::Anyone => Depth::Global,
                Reach::Own => Depth::Basic,
                Reach::Owner => targets
                    .needed(targets.owner.as_ref())
                    .unwrap_or(Depth::Global),
                Reach::Queue => targets
                    .needed(targets.queue.as_ref())
                    .unwrap_or(Depth::Global),
            };
            problems.push(Check::fail(
                name,
                format!(
                    "the application user lacks {} ({}: {}), needed to {}",
                    n.privilege, n.table, n.verb, n.why
                ),
                role_path(n, wanted),
            ));
            continue;
        };
        let (target, what) = match n.reach {
            Reach::Own => continue,
            Reach::Anyone => {
                if depth < Depth::Global {
                    problems.push(Check::warn(
                        name,
                        format!(
                            "{} is held at {} depth only: contacts owned outside it are invisible or cannot be linked, so a customer whose contact belongs to someone else gets a second contact or a refused case",
                            n.privilege,
                            depth.label()
                        ),
                        role_path(n, Depth::Global),
                    ));
                }
                continue;
            }
            Reach::Owner => (targets.owner.as_ref(), "DEFAULT_OWNER_ID"),
            Reach::Queue => (targets.queue.as_ref(), "DEFAULT_QUEUE_ID"),
        };
        match targets.needed(target) {
            Some(wanted) if depth >= wanted => {}
            Some(wanted) => {
                failed += 1;
                problems.push(Check::fail(
                    name,
                    format!(
                        "{} is held at {} depth, which does not reach {what} (needs {}), needed to {}",
                        n.privilege,
                        depth.label(),
                        wanted.label(),
                        n.why
                    ),
                    role_path(n, wanted),
                ));
            }
            None if depth == Depth::Global => {}
            None => problems.push(Check::warn(
                name,
                format!(
                    "{} is held at {} depth; whether that reaches {what} could not be read",
                    n.privilege,
                    depth.label()
                ),
                role_path(n, Depth::Global),
            )),
        }
    }
    let names: Vec<&str> = needs.iter().map(|n| n.privilege).collect();
    let summary = if failed > 0 {
        Check::fail(
            "privileges",
            format!(
                "{failed} of {} needed privileges missing or too narrow (read with RetrieveUserPrivileges; nothing was created)",
                needs.len()
            ),
            "Fix each privileges.<name> line below in the application user's security role; team-inherited privileges count at User depth only.",
        )
    } else if !problems.is_empty() {
        Check::warn(
            "privileges",
            format!(
                "all {} needed privileges held; {} narrower than advisable",
                needs.len(),
                problems.len()
            ),
            "See the privileges.<name> lines below.",
        )
    } else {
        Check::ok(
            "privileges",
            format!(
                "the application user holds every privilege the configured features need, deep enough ({}); read with RetrieveUserPrivileges, nothing was created",
                names.join(", ")
            ),
        )
    };
    let mut out = vec![summary];
    out.extend(problems);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(queue: bool, owner: bool) -> Settings {
        Settings {
            queue_id: queue.then(Uuid::new_v4),
            owner: owner.then(|| Owner::Team(Uuid::new_v4())),
            priority: None,
            ticket_properties: Default::default(),
            session_url_template: None,
            reopen_days: 0,
        }
    }

    #[test]
    fn queue_and_owner_add_their_privileges() {
        let names =
            |s: Option<&Settings>| -> Vec<&str> { needs(s).iter().map(|n| n.privilege).collect() };
        let base = names(None);
        for p in [
            "prvCreateIncident",
            "prvReadIncident",
            "prvWriteIncident",
            "prvAppendIncident",
            "prvAppendToIncident",
            "prvReadContact",
            "prvCreateContact",
            "prvAppendToContact",
            "prvCreateNote",
            "prvReadNote",
            "prvAppendNote",
            "prvAppendToNote",
        ] {
            assert!(base.contains(&p), "{p}");
        }
        assert!(!base.contains(&"prvAssignIncident"));
        assert!(!base.contains(&"prvAppendToQueue"));
        let all = names(Some(&settings(true, true)));
        assert!(all.contains(&"prvAssignIncident"));
        assert!(all.contains(&"prvAppendToQueue") && all.contains(&"prvReadQueue"));
        // Queue items have no privileges of their own (reference A.1).
        assert!(!all.iter().any(|p| p.contains("QueueItem")));
        assert!(!all.contains(&"prvCreateAnnotation"));
    }
}
