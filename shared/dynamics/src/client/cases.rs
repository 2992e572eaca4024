//! Cases: the case request and its owner, creating a case with its queue entry and notes in one
//! atomic `$batch` change set (a throttled or failed change set is sent again through the
//! retry loop), reading and reactivating an incident, notes, and the queue and owner checks.

use reqwest::Method;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::DataverseClient;
use super::transport::{Attempt, Warn};
use crate::error::{DynamicsError, api_error, excerpt};
use crate::wire::{self, BatchOp};

/// Who owns a new case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A user (`/systemusers(id)`).
    User(Uuid),
    /// A team (`/teams(id)`).
    Team(Uuid),
}

impl Owner {
    /// Parse `<guid>` (a user), `systemusers(<guid>)` or `teams(<guid>)`.
    pub fn parse(s: &str) -> Option<Owner> {
        let s = s.trim();
        let inner = |prefix: &str| {
            s.strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|g| Uuid::parse_str(g).ok())
        };
        inner("teams(")
            .map(Owner::Team)
            .or_else(|| inner("systemusers(").map(Owner::User))
            .or_else(|| Uuid::parse_str(s).ok().map(Owner::User))
    }

    fn bind(&self) -> (&'static str, Uuid) {
        match *self {
            Owner::User(id) => ("systemusers", id),
            Owner::Team(id) => ("teams", id),
        }
    }
}

/// Everything needed to create one case.
#[derive(Debug, Clone)]
pub struct CaseRequest {
    /// Client-chosen, deterministic incident id (create-only, so retries never duplicate).
    pub incident_id: Uuid,
    /// Title (already within MaxLength).
    pub title: String,
    /// Description (already within MaxLength).
    pub description: String,
    /// The customer contact.
    pub contact_id: Uuid,
    /// Queue to add the case to.
    pub queue_id: Option<Uuid>,
    /// Owner.
    pub owner: Option<Owner>,
    /// `prioritycode`.
    pub priority: Option<i64>,
    /// Extra incident columns.
    pub ticket_properties: Map<String, Value>,
    /// Notes to attach: (note id, subject, text).
    pub notes: Vec<(Uuid, String, String)>,
}

/// What a case creation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The incident id.
    pub incident_id: Uuid,
    /// Its ticket number.
    pub ticket_number: String,
    /// False when an earlier attempt had already created it.
    pub created: bool,
}

/// An incident's number and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentState {
    /// `ticketnumber`.
    pub ticket_number: String,
    /// `statecode`: 0 active, 1 resolved, 2 cancelled.
    pub state: i64,
    /// `modifiedon` (RFC 3339 UTC): for a closed case, when it was closed.
    pub modified_on: Option<String>,
}

impl DataverseClient {
    /// Attach a note to an incident, create-only. Ok(false) when that note already exists.
    pub async fn add_note(
        &self,
        note_id: Uuid,
        incident_id: Uuid,
        subject: &str,
        text: &str,
    ) -> Result<bool, DynamicsError> {
        self.create_only(
            &format!("annotations({note_id})"),
            &wire::note_body(subject, text, incident_id),
        )
        .await
    }

    /// An incident's ticket number and state; `None` when it does not exist.
    pub async fn incident(&self, id: Uuid) -> Result<Option<IncidentState>, DynamicsError> {
        let Some(v) = self
            .get_json(&format!(
                "incidents({id})?$select=ticketnumber,statecode,modifiedon"
            ))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(IncidentState {
            ticket_number: v
                .get("ticketnumber")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            state: v.get("statecode").and_then(Value::as_i64).unwrap_or(0),
            modified_on: v
                .get("modifiedon")
                .and_then(Value::as_str)
                .map(str::to_string),
        }))
    }

    /// Reactivate a resolved or cancelled case (`statecode` 0, `statuscode` 1 In Progress):
    /// a plain update of an existing record (`If-Match: *`). Needs `prvWriteIncident`.
    pub async fn reactivate(&self, id: Uuid) -> Result<(), DynamicsError> {
        let body = serde_json::json!({"statecode": 0, "statuscode": 1});
        let a = self
            .send(
                Method::PATCH,
                &format!("incidents({id})"),
                &[("If-Match", "*".into())],
                Some(("application/json".into(), body.to_string())),
            )
            .await?;
        match a.status.as_u16() {
            200..=299 => Ok(()),
            s => Err(api_error(s, &a.body)),
        }
    }

    /// Read probe: list at most one incident id (`incidents?$select=incidentid&$top=1`). Needs
    /// `prvReadIncident` and nothing else; a 403 names the missing privilege.
    pub async fn probe_incident_read(&self) -> Result<(), DynamicsError> {
        self.get_json("incidents?$select=incidentid&$top=1")
            .await
            .map(|_| ())
    }

    /// True when `entity_set(id)` exists (queue, owner checks).
    pub async fn exists(&self, entity_set: &str, id: Uuid) -> Result<bool, DynamicsError> {
        let key = match entity_set {
            "systemusers" => "systemuserid",
            "teams" => "teamid",
            "queues" => "queueid",
            other => return Err(DynamicsError::Config(format!("unknown entity set {other}"))),
        };
        Ok(self
            .get_json(&format!("{entity_set}({id})?$select={key}"))
            .await?
            .is_some())
    }

    /// Create the case, queue it and attach its notes in one atomic `$batch` change set. The
    /// incident is written create-only under its deterministic id: when an earlier attempt
    /// already created it, the change set is refused as a whole and the existing case is
    /// returned.
    pub async fn create_case(&self, req: &CaseRequest) -> Result<CaseResult, DynamicsError> {
        let base = self.creds.api_base();
        let mut ops = vec![BatchOp {
            method: "PATCH",
            url: format!("{base}incidents({})", req.incident_id),
            headers: vec![
                ("If-None-Match", "*".into()),
                ("Prefer", "return=representation".into()),
            ],
            body: wire::incident_body(
                &req.title,
                &req.description,
                req.contact_id,
                req.owner.as_ref().map(Owner::bind),
                req.priority,
                &req.ticket_properties,
            ),
        }];
        if let Some(q) = req.queue_id {
            ops.push(BatchOp {
                method: "POST",
                url: format!("{base}queues({q})/Microsoft.Dynamics.CRM.AddToQueue"),
                headers: vec![],
                body: wire::add_to_queue_body(req.incident_id),
            });
        }
        for (id, subject, text) in &req.notes {
            ops.push(BatchOp {
                method: "PATCH",
                url: format!("{base}annotations({id})"),
                headers: vec![("If-None-Match", "*".into())],
                body: wire::note_body(subject, text, req.incident_id),
            });
        }
        let (content_type, body) = wire::batch(&ops, req.incident_id);
        let (content_type, body) = (&content_type, &body);
        self.retrying(|attempt| async move {
            let a = self
                .send(
                    Method::POST,
                    "$batch",
                    &[],
                    Some((content_type.clone(), body.clone())),
                )
                .await?;
            let parts = wire::parse_batch(&a.body);
            let failed = parts.iter().find(|p| p.status >= 400);
            match failed {
                None if a.status.is_success() => {
                    let ticket = parts
                        .first()
                        .and_then(|p| serde_json::from_str::<Value>(&p.body).ok())
                        .and_then(|v| {
                            v.get("ticketnumber")
                                .and_then(Value::as_str)
                                .map(str::to_string)
                        });
                    let ticket_number = match ticket {
                        Some(t) => t,
                        None => self
                            .incident(req.incident_id)
                            .await?
                            .map(|i| i.ticket_number)
                            .unwrap_or_default(),
                    };
                    Ok(Attempt::Done(CaseResult {
                        incident_id: req.incident_id,
                        ticket_number,
                        created: true,
                    }))
                }
                None => Err(api_error(a.status.as_u16(), &a.body)),
                Some(p) => {
                    // A throttled or failed change set was rolled back: send it again (a
                    // throttled one after its `Retry-After`).
                    let retry =
                        self.retry_for((p.status, p.retry_after), attempt, Warn::Quiet, || {
                            excerpt(&p.body)
                        });
                    if let Some(retry) = retry {
                        return Ok(retry);
                    }
                    let err = api_error(p.status, &p.body);
                    if let DynamicsError::AlreadyExists { .. } = err
                        && let Some(existing) = self.incident(req.incident_id).await?
                    {
                        return Ok(Attempt::Done(CaseResult {
                            incident_id: req.incident_id,
                            ticket_number: existing.ticket_number,
                            created: false,
                        }));
                    }
                    Err(err)
                }
            }
        })
        .await
    }
}
