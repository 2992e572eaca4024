//! One error type whose every variant says what the operator should fix.

/// A Dynamics failure, classified by what fixes it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DynamicsError {
    /// The secret or settings are malformed.
    #[error("configuration: {0}")]
    Config(String),
    /// The token endpoint refused the credentials (`AADSTS…`).
    #[error("sign-in to Entra ID failed ({status}, {code}): {fix}")]
    Auth {
        /// HTTP status of the token endpoint.
        status: u16,
        /// `AADSTS…` code or the OAuth error name.
        code: String,
        /// What to change.
        fix: String,
    },
    /// The API rejected a fresh token: the app has no application user in the environment.
    /// Real orgs answer either 401, or 403 with `0x80072560` ("The user is not a member of the
    /// organization."); both land here, never in [`DynamicsError::Privilege`].
    #[error("Dataverse rejected the app's token ({status}): {fix}")]
    NoApplicationUser {
        /// 401 or 403.
        status: u16,
        /// What to change.
        fix: String,
    },
    /// The application user's security role lacks a privilege.
    #[error("missing privilege {privilege} on {table}: {message}")]
    Privilege {
        /// e.g. `prvCreateIncident`.
        privilege: String,
        /// The table the privilege is for.
        table: String,
        /// Dataverse's message.
        message: String,
    },
    /// Dataverse refused the request's content (400).
    #[error("Dataverse rejected the request ({code}): {message}")]
    BadRequest {
        /// Dataverse error code (`0x…`), may be empty.
        code: String,
        /// Dataverse's message.
        message: String,
        /// The column the message names, when it names one.
        column: Option<String>,
    },
    /// A text longer than its column's `MaxLength` (400 `0x80044331`, "A validation error
    /// occurred.  The length of the 'title' attribute of the 'incident' entity exceeded the
    /// maximum allowed length of '200'."). Recognised by the code; by the message only when the
    /// service sends an empty code.
    #[error("text longer than the column allows ({code}): {message}")]
    TooLong {
        /// `0x80044331`, or empty.
        code: String,
        /// The table (`incident`, `annotation`), when the message names it.
        table: Option<String>,
        /// The column (`description`, `notetext`), when the message names it.
        column: Option<String>,
        /// The `MaxLength` the message quotes.
        max: Option<usize>,
        /// Dataverse's message.
        message: String,
    },
    /// A record or bind target does not exist (404).
    #[error("not found: {message}")]
    NotFound {
        /// Dataverse's message.
        message: String,
    },
    /// A create-only write hit an existing record (412).
    #[error("record already exists: {message}")]
    AlreadyExists {
        /// Dataverse's message.
        message: String,
    },
    /// Still throttled or failing after the retry bound.
    #[error("Dataverse unavailable after {attempts} attempts (last status {status}): {message}")]
    Unavailable {
        /// Attempts made.
        attempts: u32,
        /// Last HTTP status (0 for a transport failure).
        status: u16,
        /// Last message.
        message: String,
    },
    /// Any other unexpected status.
    #[error("unexpected Dataverse answer {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Body excerpt.
        message: String,
    },
    /// A response that could not be read.
    #[error("unreadable Dataverse response: {0}")]
    Decode(String),
}

impl DynamicsError {
    /// The operator's fix, one sentence, for logs, the CLI and `verify`.
    pub fn fix(&self) -> String {
        match self {
            DynamicsError::Config(m) => format!("Fix the configuration: {m}."),
            DynamicsError::Auth { fix, .. } | DynamicsError::NoApplicationUser { fix, .. } => {
                fix.clone()
            }
            DynamicsError::Privilege { privilege, table, .. } => format!(
                "Give the application user's security role the {privilege} privilege on the {table} table (Power Platform admin center > Environment > Settings > Users + permissions > Security roles)."
            ),
            DynamicsError::BadRequest { column: Some(c), message, .. } => {
                format!("Fix the value for column '{c}' (check TICKET_PROPERTIES with `mailcase verify`): {message}")
            }
            DynamicsError::BadRequest { message, .. } => format!("Dataverse refused the data: {message}"),
            DynamicsError::TooLong { table, column, max, .. } => {
                let col = match (table, column) {
                    (Some(t), Some(c)) => format!("{t}.{c}"),
                    (None, Some(c)) => c.clone(),
                    _ => "a text column".into(),
                };
                let max = max.map(|m| format!(" (MaxLength {m})")).unwrap_or_default();
                format!("Dataverse refused text longer than {col}{max} even with the column limits read from the org's metadata: if it is a TICKET_PROPERTIES value, shorten it; otherwise check the column's MaxLength in Power Apps (Tables > {} > Columns) and `mailcase verify`.", table.as_deref().unwrap_or("the table"))
            }
            DynamicsError::NotFound { message } => {
                format!("A referenced record does not exist; check DEFAULT_QUEUE_ID / DEFAULT_OWNER_ID: {message}")
            }
            DynamicsError::AlreadyExists { message } => format!("Nothing to fix: {message}"),
            DynamicsError::Unavailable { .. } => {
                "Dataverse is throttling or unavailable; the request will be retried (lower the handoff queue's maximum concurrency if this persists).".into()
            }
            DynamicsError::Status { status, .. } => format!("Unexpected HTTP {status} from Dataverse; check environment_url and the service health."),
            DynamicsError::Decode(m) => format!("Unexpected response from Dataverse ({m}); check environment_url points at a Dataverse environment."),
        }
    }

    /// A short, stable code for the cause (recorded with failures, counted by `mailcase
    /// status`): `no_application_user`, `missing_privilege`, `dynamics_sign_in`, ...
    pub fn cause_code(&self) -> &'static str {
        match self {
            DynamicsError::Config(_) => "dynamics_config",
            DynamicsError::Auth { .. } => "dynamics_sign_in",
            DynamicsError::NoApplicationUser { .. } => "no_application_user",
            DynamicsError::Privilege { .. } => "missing_privilege",
            DynamicsError::BadRequest { .. } => "dynamics_rejected_data",
            DynamicsError::TooLong { .. } => "dynamics_text_too_long",
            DynamicsError::NotFound { .. } => "dynamics_record_missing",
            DynamicsError::AlreadyExists { .. } => "dynamics_already_exists",
            DynamicsError::Unavailable { .. } => "dynamics_unavailable",
            DynamicsError::Status { .. } => "dynamics_unexpected_status",
            DynamicsError::Decode(_) => "dynamics_unreadable_answer",
        }
    }

    /// Worth trying again later (throttling, outages, transport failures).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            DynamicsError::Unavailable { .. }
                | DynamicsError::Status {
                    status: 500..=599,
                    ..
                }
        )
    }
}

/// Map an Entra token-endpoint error to the field to fix.
pub(crate) fn auth_error(status: u16, body: &serde_json::Value) -> DynamicsError {
    let error = body.get("error").and_then(|v| v.as_str()).unwrap_or("");
    let description = body
        .get("error_description")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let aadsts = description
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| w.starts_with("AADSTS"))
        .unwrap_or("")
        .to_string();
    let fix = match aadsts.as_str() {
        "AADSTS7000215" | "AADSTS7000222" => {
            "client_secret is wrong or expired: put the secret's *Value* (not its ID) in the Dynamics secret, or create a new client secret in the app registration"
        }
        "AADSTS700016" => {
            "client_id is not an app in this tenant: check client_id (Application (client) ID) and tenant_id"
        }
        "AADSTS90002" | "AADSTS900023" => {
            "tenant_id is wrong: use the Directory (tenant) ID of the Entra tenant"
        }
        "AADSTS70011" | "AADSTS500011" => {
            "environment_url is wrong (the token scope is <environment_url>/.default): use your org URL, e.g. https://yourorg.crm.dynamics.com"
        }
        "AADSTS65001" => {
            "admin consent is missing: grant admin consent for the Dynamics CRM API permission in the app registration"
        }
        "AADSTS7000112" | "AADSTS700024" => {
            "the app registration is disabled or the client assertion is invalid: check the app registration"
        }
        _ if error == "invalid_client" => {
            "client_id or client_secret is wrong: check both in the Dynamics secret"
        }
        _ => "check tenant_id, client_id and client_secret in the Dynamics secret",
    };
    let code = if aadsts.is_empty() {
        error.to_string()
    } else {
        aadsts
    };
    DynamicsError::Auth {
        status,
        code,
        fix: fix.to_string(),
    }
}

/// Map a Web API error answer.
pub(crate) fn api_error(status: u16, body: &str) -> DynamicsError {
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    let code = parsed
        .pointer("/error/code")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let message = parsed
        .pointer("/error/message")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| excerpt(body));
    match status {
        // 403 "The user is not a member of the organization." is what a real org answers when
        // the app registration has no application user (reference A.2); some answer 401.
        401 => no_application_user(401),
        403 if code.eq_ignore_ascii_case(NOT_A_MEMBER) => no_application_user(403),
        403 => {
            let privilege = message
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .find(|w| w.starts_with("prv"))
                .unwrap_or("(see message)")
                .to_string();
            let table = quoted_after(&message, "for entity '")
                .or_else(|| privilege.strip_prefix("prv").map(strip_verb))
                .unwrap_or_else(|| "(see message)".into());
            DynamicsError::Privilege {
                privilege,
                table,
                message,
            }
        }
        404 => DynamicsError::NotFound { message },
        412 => DynamicsError::AlreadyExists { message },
        400 if code.eq_ignore_ascii_case(TOO_LONG)
            || (code.is_empty() && message.contains("exceeded the maximum allowed length")) =>
        {
            DynamicsError::TooLong {
                table: quoted_after(&message, "attribute of the '"),
                column: quoted_after(&message, "The length of the '"),
                max: quoted_after(&message, "maximum allowed length of '")
                    .and_then(|m| m.trim().parse().ok()),
                code,
                message,
            }
        }
        400 => {
            let column = quoted_after(&message, "The property '")
                .or_else(|| quoted_after(&message, "An undeclared property '"))
                .or_else(|| quoted_after(&message, "The length of the '"))
                .or_else(|| quoted_after(&message, " of '"));
            DynamicsError::BadRequest {
                code,
                message,
                column,
            }
        }
        _ => DynamicsError::Status { status, message },
    }
}

/// Dataverse's `StringLengthTooLong` error code (a text longer than its column's MaxLength).
pub(crate) const TOO_LONG: &str = "0x80044331";

/// Dataverse's "The user is not a member of the organization." error code.
pub(crate) const NOT_A_MEMBER: &str = "0x80072560";

fn no_application_user(status: u16) -> DynamicsError {
    DynamicsError::NoApplicationUser {
        status,
        fix: "create an application user for this app (client_id) in the environment and give it a security role (Power Platform admin center > Environment > Settings > Users + permissions > Application users)".into(),
    }
}

fn strip_verb(s: &str) -> String {
    for verb in [
        "Create", "Read", "Write", "Delete", "AppendTo", "Append", "Assign", "Share",
    ] {
        if let Some(rest) = s.strip_prefix(verb) {
            return rest.to_lowercase();
        }
    }
    s.to_lowercase()
}

fn quoted_after(message: &str, marker: &str) -> Option<String> {
    let start = message.find(marker)? + marker.len();
    let rest = message.get(start..)?;
    let end = rest.find('\'')?;
    Some(rest[..end].to_string())
}

/// At most 300 characters of a body, for messages.
pub(crate) fn excerpt(body: &str) -> String {
    let t: String = body.chars().take(300).collect();
    t.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn privilege_and_table_are_named() {
        let e = api_error(
            403,
            r#"{"error":{"code":"0x80040220","message":"Principal user (Id=1, type=8, roleCount=1, privilegeCount=5, accessMode=4), is missing prvCreateIncident privilege (Id=2) on OTC=112 for entity 'incident'. context.Caller=1"}}"#,
        );
        match &e {
            DynamicsError::Privilege {
                privilege, table, ..
            } => {
                assert_eq!(privilege, "prvCreateIncident");
                assert_eq!(table, "incident");
            }
            other => panic!("{other:?}"),
        }
        assert!(e.fix().contains("prvCreateIncident"));
    }

    #[test]
    fn both_no_application_user_answers_give_the_application_user_fix() {
        let answers = [
            (401, String::new()),
            (
                403,
                r#"{"error":{"code":"0x80072560","message":"The user is not a member of the organization."}}"#.to_string(),
            ),
        ];
        for (status, body) in answers {
            let e = api_error(status, &body);
            assert!(
                matches!(e, DynamicsError::NoApplicationUser { status: s, .. } if s == status),
                "{status}: {e:?}"
            );
            assert!(e.fix().starts_with("create an application user"), "{e}");
            assert_eq!(e.cause_code(), "no_application_user");
            assert!(!e.is_retryable());
        }
        // Any other 403 stays a privilege problem.
        let e = api_error(
            403,
            r#"{"error":{"code":"0x80040220","message":"is missing prvReadQueue privilege"}}"#,
        );
        assert_eq!(e.cause_code(), "missing_privilege", "{e:?}");
    }

    #[test]
    fn bad_request_names_the_column() {
        let cases = [
            (
                "Error identified in Payload ... ---->  InnerException : Microsoft.OData.ODataException: The property 'new_x' does not exist on type 'Microsoft.Dynamics.CRM.incident'.",
                Some("new_x"),
            ),
            (
                "A validation error occurred. The value 5 of 'casetypecode' on record of type 'incident' is outside the valid range. Accepted Values: 1,2,3",
                Some("casetypecode"),
            ),
            (
                "A validation error occurred.  The length of the 'title' attribute of the 'incident' entity exceeded the maximum allowed length of '200'.",
                Some("title"),
            ),
        ];
        for (msg, col) in cases {
            let body =
                serde_json::json!({"error": {"code": "0x80048d19", "message": msg}}).to_string();
            match api_error(400, &body) {
                DynamicsError::BadRequest { column, .. } => {
                    assert_eq!(column.as_deref(), col, "{msg}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_length_refusal_is_recognised_by_its_code() {
        // Microsoft's documented answer (execute-batch-operations-using-web-api.md), two
        // spaces after "occurred." included.
        let documented = r#"{"error":{"code":"0x80044331","message":"A validation error occurred.  The length of the 'subject' attribute of the 'task' entity exceeded the maximum allowed length of '200'."}}"#;
        match api_error(400, documented) {
            DynamicsError::TooLong {
                code,
                table,
                column,
                max,
                ..
            } => {
                assert_eq!(code, "0x80044331");
                assert_eq!(table.as_deref(), Some("task"));
                assert_eq!(column.as_deref(), Some("subject"));
                assert_eq!(max, Some(200));
            }
            other => panic!("{other:?}"),
        }
        // The code alone is enough (a localised or reworded message names nothing).
        let reworded = r#"{"error":{"code":"0X80044331","message":"Die Länge des Attributs überschreitet die zulässige Länge."}}"#;
        let e = api_error(400, reworded);
        assert!(
            matches!(
                &e,
                DynamicsError::TooLong {
                    column: None,
                    max: None,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(e.cause_code(), "dynamics_text_too_long");
        assert!(!e.is_retryable());
        assert!(e.fix().contains("MaxLength"), "{}", e.fix());
        // Older services send an empty code: then the message decides.
        let empty = r#"{"error":{"code":"","message":"A validation error occurred.  The length of the 'description' attribute of the 'incident' entity exceeded the maximum allowed length of '2000'."}}"#;
        assert!(matches!(
            api_error(400, empty),
            DynamicsError::TooLong {
                max: Some(2000),
                ..
            }
        ));
        // Another code with a length-like message stays an ordinary refusal.
        let other = r#"{"error":{"code":"0x8004431a","message":"A validation error occurred. The value 5 of 'casetypecode' on record of type 'incident' is outside the valid range. Accepted Values: 1,2,3"}}"#;
        assert!(matches!(
            api_error(400, other),
            DynamicsError::BadRequest { .. }
        ));
    }

    #[test]
    fn aadsts_codes_map_to_fields() {
        let body = serde_json::json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."});
        let e = auth_error(401, &body);
        assert!(e.fix().contains("client_secret"), "{}", e.fix());
        let body = serde_json::json!({"error": "invalid_request", "error_description": "AADSTS90002: Tenant 'x' not found."});
        assert!(auth_error(400, &body).fix().contains("tenant_id"));
    }
}
