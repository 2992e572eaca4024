//! The client: token cache, one request path with bounded retries, and the operations.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::credentials::{Credentials, Secret};
use crate::error::{DynamicsError, api_error, auth_error, excerpt};
use crate::wire::{self, BatchOp};

/// How hard to try before giving up.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request (first try included).
    pub max_attempts: u32,
    /// First backoff for 5xx and transport failures; doubled each time.
    pub base_delay: Duration,
    /// Longest single wait, also the cap on a `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(30),
        }
    }
}

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

struct Token {
    value: Secret,
    refresh_at: Instant,
}

/// Dataverse Web API client. Build once per cold start and share.
pub struct DataverseClient {
    http: reqwest::Client,
    creds: Credentials,
    policy: RetryPolicy,
    token: Mutex<Option<Token>>,
    requests: AtomicU64,
    retries: AtomicU64,
}

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) body: String,
}

impl DataverseClient {
    /// A client for these credentials.
    pub fn new(creds: Credentials, policy: RetryPolicy) -> Result<Self, DynamicsError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| DynamicsError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(DataverseClient {
            http,
            creds,
            policy,
            token: Mutex::new(None),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        })
    }

    /// HTTP requests sent so far (token requests included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Retries made so far (throttling, 5xx, transport).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// The credentials in use.
    pub fn credentials(&self) -> &Credentials {
        &self.creds
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .policy
            .base_delay
            .saturating_mul(1u32 << attempt.min(16));
        let jitter = Duration::from_millis(u64::from(Instant::now().elapsed().subsec_nanos() % 97));
        exp.min(self.policy.max_delay) + jitter
    }

    /// A valid bearer token (cached until a minute before expiry).
    pub async fn token(&self) -> Result<Secret, DynamicsError> {
        self.token_inner(false).await
    }

    async fn token_inner(&self, force: bool) -> Result<Secret, DynamicsError> {
        let mut guard = self.token.lock().await;
        if let Some(t) = guard.as_ref()
            && !force
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let url = format!(
            "{}/{}/oauth2/v2.0/token",
            self.creds.authority(),
            wire::encode(&self.creds.tenant_id)
        );
        let scope = format!("{}/.default", self.creds.environment_url);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.creds.client_id.as_str()),
            ("client_secret", self.creds.client_secret.expose()),
            ("scope", scope.as_str()),
        ];
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let sent = self.http.post(&url).form(&form).send().await;
            let (status, body) = match sent {
                Ok(r) => {
                    let status = r.status();
                    // The form (client secret) and the answer (the token) are never logged.
                    tracing::debug!(
                        status = status.as_u16(),
                        duration_ms = started.elapsed().as_millis() as u64,
                        attempt,
                        "Entra ID token request"
                    );
                    (status, r.text().await.unwrap_or_default())
                }
                Err(e) if attempt < self.policy.max_attempts => {
                    tracing::warn!(attempt, error = %transport(&e), "token request failed; retrying");
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(self.backoff(attempt)).await;
                    continue;
                }
                Err(e) => {
                    return Err(DynamicsError::Unavailable {
                        attempts: attempt,
                        status: 0,
                        message: transport(&e),
                    });
                }
            };
            if status.is_server_error() && attempt < self.policy.max_attempts {
                self.retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(self.backoff(attempt)).await;
                continue;
            }
            let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            if !status.is_success() {
                return Err(auth_error(status.as_u16(), &json));
            }
            let value = json
                .get("access_token")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    DynamicsError::Decode("token response without access_token".into())
                })?;
            let expires_in = json
                .get("expires_in")
                .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                .unwrap_or(300);
            let lifetime = Duration::from_secs(expires_in);
            let margin = Duration::from_secs(60).min(lifetime / 2);
            let token = Token {
                value: Secret::new(value),
                refresh_at: Instant::now() + lifetime - margin,
            };
            let out = token.value.clone();
            *guard = Some(token);
            return Ok(out);
        }
    }

    /// Send one Web API request with retries. `path` is relative to `/api/data/v9.2/`.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, String)],
        body: Option<(String, String)>,
    ) -> Result<Answer, DynamicsError> {
        let url = format!("{}{path}", self.creds.api_base());
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self.token_inner(false).await?;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(token.expose())
                .header("Accept", "application/json")
                .header("OData-MaxVersion", "4.0")
                .header("OData-Version", "4.0");
            for (k, v) in headers {
                req = req.header(*k, v);
            }
            if let Some((ct, b)) = &body {
                req = req.header("Content-Type", ct).body(b.clone());
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let (status, retry_after, text) = match req.send().await {
                Ok(r) => {
                    let status = r.status();
                    // Path without the query: a `$filter` can hold a customer's address.
                    tracing::debug!(
                        method = %method,
                        path = %path.split('?').next().unwrap_or(path),
                        status = status.as_u16(),
                        duration_ms = started.elapsed().as_millis() as u64,
                        attempt,
                        "Dataverse request"
                    );
                    let ra = r
                        .headers()
                        .get("Retry-After")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    (status, ra, r.text().await.unwrap_or_default())
                }
                Err(e) => {
                    if attempt >= self.policy.max_attempts {
                        return Err(DynamicsError::Unavailable {
                            attempts: attempt,
                            status: 0,
                            message: transport(&e),
                        });
                    }
                    tracing::warn!(attempt, error = %transport(&e), "Dataverse request failed; retrying");
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(self.backoff(attempt)).await;
                    continue;
                }
            };
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                // An expired or revoked token: get a fresh one once before calling it a setup
                // problem.
                refreshed = true;
                self.token_inner(true).await?;
                continue;
            }
            let wait = match status.as_u16() {
                429 => Some(
                    retry_after
                        .map(Duration::from_secs)
                        .unwrap_or_else(|| self.backoff(attempt))
                        .min(self.policy.max_delay),
                ),
                500..=599 => Some(self.backoff(attempt)),
                _ => None,
            };
            match wait {
                Some(w) if attempt < self.policy.max_attempts => {
                    tracing::warn!(
                        attempt,
                        status = status.as_u16(),
                        wait_ms = w.as_millis() as u64,
                        "Dataverse throttled or failing; retrying"
                    );
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(w).await;
                }
                Some(_) => {
                    return Err(DynamicsError::Unavailable {
                        attempts: attempt,
                        status: status.as_u16(),
                        message: excerpt(&text),
                    });
                }
                None => return Ok(Answer { status, body: text }),
            }
        }
    }

    pub(crate) async fn get_json(&self, path: &str) -> Result<Option<Value>, DynamicsError> {
        let a = self.send(Method::GET, path, &[], None).await?;
        match a.status.as_u16() {
            200 => serde_json::from_str(&a.body)
                .map(Some)
                .map_err(|e| DynamicsError::Decode(e.to_string())),
            404 => Ok(None),
            s => Err(api_error(s, &a.body)),
        }
    }

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

    pub(crate) async fn create_only(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<bool, DynamicsError> {
        let a = self
            .send(
                Method::PATCH,
                path,
                &[("If-None-Match", "*".into())],
                Some(("application/json".into(), body.to_string())),
            )
            .await?;
        match a.status.as_u16() {
            200..=299 => Ok(true),
            412 => Ok(false),
            s => Err(api_error(s, &a.body)),
        }
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
            "EntityDefinitions(LogicalName='{entity}')/Attributes(LogicalName='{}')?$select=LogicalName,AttributeType",
            attribute.replace('\'', "''")
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
            "EntityDefinitions(LogicalName='{entity}')/Attributes(LogicalName='{}')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)",
            attribute.replace('\'', "''")
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
        let mut attempt = 0;
        loop {
            attempt += 1;
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
                    return Ok(CaseResult {
                        incident_id: req.incident_id,
                        ticket_number,
                        created: true,
                    });
                }
                None => return Err(api_error(a.status.as_u16(), &a.body)),
                Some(p) if p.status == 429 || p.status >= 500 => {
                    // A throttled or failed change set was rolled back: send it again.
                    if attempt >= self.policy.max_attempts {
                        return Err(DynamicsError::Unavailable {
                            attempts: attempt,
                            status: p.status,
                            message: excerpt(&p.body),
                        });
                    }
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                Some(p) => {
                    let err = api_error(p.status, &p.body);
                    if let DynamicsError::AlreadyExists { .. } = err
                        && let Some(existing) = self.incident(req.incident_id).await?
                    {
                        return Ok(CaseResult {
                            incident_id: req.incident_id,
                            ticket_number: existing.ticket_number,
                            created: false,
                        });
                    }
                    return Err(err);
                }
            }
        }
    }
}

fn transport(e: &reqwest::Error) -> String {
    // reqwest's Display includes the URL, which holds no secret (tokens travel in headers and
    // the form body); keep the kind for the operator.
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "transport error"
    };
    format!("{kind}: {e}")
}
