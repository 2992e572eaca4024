//! HTTP: the token endpoint, the Web API (auth, faults, latency, counting) and `/_admin`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::db::{Req, Resp};
use crate::{Fault, State, batch, odata};

type Shared = Arc<Mutex<State>>;

pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route("/_admin/records/{set}", get(admin_records))
        .route("/_admin/counts", get(admin_counts))
        .route("/_admin/reset_counts", post(admin_reset))
        .route("/_admin/faults", post(admin_fault))
        .route("/_admin/latency", post(admin_latency))
        .route("/_admin/revoke", post(admin_revoke))
        .route("/_admin/grant", post(admin_grant))
        .route("/_admin/role", post(admin_role))
        .route("/_admin/no_application_user", post(admin_no_app_user))
        .fallback(api)
        .with_state(state)
}

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, State> {
    match s.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn json_response(status: u16, body: &Value, headers: &[(String, String)]) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = if body.is_null() {
        code.into_response()
    } else {
        (code, body.to_string()).into_response()
    };
    let h = resp.headers_mut();
    if !body.is_null() {
        h.insert(
            "content-type",
            axum::http::HeaderValue::from_static("application/json; odata.metadata=minimal"),
        );
    }
    h.insert("odata-version", axum::http::HeaderValue::from_static("4.0"));
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            axum::http::HeaderValue::from_str(v),
        ) {
            h.insert(name, value);
        }
    }
    resp
}

fn aad_error(status: u16, error: &str, code: u32, description: &str) -> Response {
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {description}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: 2026-01-01 00:00:00Z", Uuid::new_v4(), Uuid::new_v4()),
        "error_codes": [code],
        "timestamp": "2026-01-01 00:00:00Z",
        "trace_id": Uuid::new_v4().to_string(),
        "correlation_id": Uuid::new_v4().to_string(),
    });
    json_response(status, &body, &[])
}

/// The first injected fault that matches `path` (a fault without a path matches when
/// `any_matches`), counted down and removed when spent.
fn take_fault(s: &mut State, path: &str, any_matches: bool) -> Option<Fault> {
    let i = s.faults.iter().position(|f| {
        f.count > 0
            && match f.path_contains.as_deref() {
                None => any_matches,
                Some(p) => path.contains(p),
            }
    })?;
    let f = s.faults[i].clone();
    s.faults[i].count -= 1;
    if s.faults[i].count == 0 {
        s.faults.remove(i);
    }
    Some(f)
}

async fn token(
    AxState(state): AxState<Shared>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let form = odata::query(&String::from_utf8_lossy(&body).replace('+', "%20"));
    let mut s = lock(&state);
    *s.counts.entry("token".into()).or_default() += 1;
    // Only a fault that names the token endpoint (`oauth2`, `token`) fails it.
    if let Some(f) = take_fault(&mut s, &format!("/{tenant}/oauth2/v2.0/token"), false) {
        let headers: Vec<(String, String)> = if f.status == 429 {
            vec![("Retry-After".into(), f.retry_after.to_string())]
        } else {
            Vec::new()
        };
        // RFC 6749's error shape, as Entra ID answers when it is throttling or failing.
        return json_response(
            f.status,
            &json!({"error": "temporarily_unavailable", "error_description": "The service is temporarily unavailable; try again later."}),
            &headers,
        );
    }
    let cfg = s.cfg.clone();
    if tenant != cfg.tenant_id {
        return aad_error(
            400,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return aad_error(
            400,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    let client = form.get("client_id").cloned().unwrap_or_default();
    if client != cfg.client_id {
        return aad_error(
            400,
            "unauthorized_client",
            700016,
            &format!(
                "Application with identifier '{client}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
            ),
        );
    }
    if form.get("client_secret") != Some(&cfg.client_secret) {
        return aad_error(
            401,
            "invalid_client",
            7000215,
            &format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client}'."
            ),
        );
    }
    let expected_scope = format!("{}/.default", s.db.base_url);
    let scope = form.get("scope").cloned().unwrap_or_default();
    if scope != expected_scope {
        return aad_error(
            400,
            "invalid_scope",
            70011,
            &format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        );
    }
    let value = format!("emu.{}", Uuid::new_v4().simple());
    let lifetime = cfg.token_lifetime;
    s.tokens.insert(value.clone(), Instant::now() + lifetime);
    json_response(
        200,
        &json!({"token_type": "Bearer", "expires_in": lifetime.as_secs(), "ext_expires_in": lifetime.as_secs(), "access_token": value}),
        &[],
    )
}

pub(crate) fn kind_of(method: &Method, path: &str) -> String {
    let head = path.split(['(', '/', '?']).next().unwrap_or(path);
    let action = if path.contains("AddToQueue") {
        " AddToQueue"
    } else {
        ""
    };
    format!("{method} {head}{action}")
}

async fn api(
    AxState(state): AxState<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(path) = uri.path().strip_prefix("/api/data/v9.2/") else {
        return json_response(
            404,
            &json!({"error": {"code": "", "message": format!("Resource not found: {}", uri.path())}}),
            &[],
        );
    };
    let path = odata::decode(path);
    let kind = kind_of(&method, &path);
    let latency = {
        let mut s = lock(&state);
        *s.counts.entry(kind).or_default() += 1;
        s.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut s = lock(&state);
    if let Some(f) = take_fault(&mut s, &path, true) {
        return if f.status == 429 {
            json_response(
                429,
                &json!({"error": {"code": "0x80072322", "message": "Number of requests exceeded the limit of 6000 over time window of 300 seconds."}}),
                &[("Retry-After".into(), f.retry_after.to_string())],
            )
        } else {
            json_response(
                f.status,
                &json!({"error": {"code": "0x80040216", "message": "An unexpected error occurred."}}),
                &[],
            )
        };
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let valid = s
        .tokens
        .get(bearer)
        .is_some_and(|exp| Instant::now() < *exp);
    if valid && s.no_application_user == Some(403) {
        return json_response(
            403,
            &json!({"error": {"code": "0x80072560", "message": "The user is not a member of the organization."}}),
            &[],
        );
    }
    if !valid || s.no_application_user.is_some() {
        let authority = format!("{}/{}/oauth2/authorize", s.db.base_url, s.cfg.tenant_id);
        return json_response(
            401,
            &Value::Null,
            &[(
                "WWW-Authenticate".into(),
                format!(
                    "Bearer authorization_uri={authority}, resource_id={}",
                    s.db.base_url
                ),
            )],
        );
    }
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = String::from_utf8_lossy(&body).into_owned();
    if path == "$batch" && method == Method::POST {
        let (status, ct, out) = batch::run(&mut s.db, &content_type, &text);
        let mut resp = (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            out,
        )
            .into_response();
        if let Ok(v) = ct.parse() {
            resp.headers_mut().insert("content-type", v);
        }
        return resp;
    }
    let body_json = if text.trim().is_empty() {
        None
    } else {
        if !content_type.starts_with("application/json") {
            return json_response(
                415,
                &json!({"error": {"code": "0x80040203", "message": "Content-Type 'application/json' is required for a request body."}}),
                &[],
            );
        }
        match serde_json::from_str::<Value>(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                return json_response(
                    400,
                    &json!({"error": {"code": "0x80040203", "message": format!("Invalid JSON: {e}")}}),
                    &[],
                );
            }
        }
    };
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let req = Req {
        method: method.to_string(),
        path: path.clone(),
        query: odata::query(uri.query().unwrap_or("")),
        if_none_match: header("if-none-match").filter(|v| v != "null"),
        if_match: header("if-match"),
        representation: header("prefer").is_some_and(|p| p.contains("return=representation")),
        body: body_json,
    };
    let Resp {
        status,
        headers: h,
        body,
    } = s.db.execute(&req);
    json_response(status, &body, &h)
}

async fn admin_records(AxState(state): AxState<Shared>, Path(set): Path<String>) -> Response {
    let s = lock(&state);
    let rows: Vec<Value> =
        s.db.records
            .get(&set)
            .map(|m| m.values().map(|r| Value::Object(r.clone())).collect())
            .unwrap_or_default();
    json_response(200, &json!({"value": rows}), &[])
}

async fn admin_counts(AxState(state): AxState<Shared>) -> Response {
    json_response(200, &json!(lock(&state).counts), &[])
}

async fn admin_reset(AxState(state): AxState<Shared>) -> Response {
    lock(&state).counts.clear();
    json_response(204, &Value::Null, &[])
}

async fn admin_fault(AxState(state): AxState<Shared>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let fault = Fault {
        status: v.get("status").and_then(Value::as_u64).unwrap_or(503) as u16,
        count: v.get("count").and_then(Value::as_u64).unwrap_or(1) as u32,
        path_contains: v.get("path").and_then(Value::as_str).map(str::to_string),
        retry_after: v.get("retry_after").and_then(Value::as_u64).unwrap_or(1),
    };
    lock(&state).faults.push(fault);
    json_response(204, &Value::Null, &[])
}

async fn admin_latency(AxState(state): AxState<Shared>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    lock(&state).latency = Duration::from_millis(v.get("ms").and_then(Value::as_u64).unwrap_or(0));
    json_response(204, &Value::Null, &[])
}

async fn admin_revoke(AxState(state): AxState<Shared>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(p) = v.get("privilege").and_then(Value::as_str) {
        lock(&state).db.role.privileges.remove(p);
    }
    json_response(204, &Value::Null, &[])
}

async fn admin_grant(AxState(state): AxState<Shared>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Some(p) = v.get("privilege").and_then(Value::as_str) {
        lock(&state)
            .db
            .role
            .privileges
            .insert(p.to_string(), crate::Depth::Global);
    }
    json_response(204, &Value::Null, &[])
}

/// `{"without": ["prvCreateIncident"], "depths": {"prvAppendToQueue": "Basic"}}`: the full role
/// less `without`, with `depths` changed (a fresh role each call).
async fn admin_role(AxState(state): AxState<Shared>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut role = crate::Role::full();
    for p in v
        .get("without")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        role = role.without(p);
    }
    if let Some(depths) = v.get("depths").and_then(Value::as_object) {
        for (p, d) in depths {
            match d.as_str().and_then(crate::Depth::parse) {
                Some(d) => role = role.with(p, d),
                None => {
                    return json_response(
                        400,
                        &json!({"error": {"code": "", "message": format!("unknown depth for {p}: use Basic, Local, Deep or Global")}}),
                        &[],
                    );
                }
            }
        }
    }
    lock(&state).db.role = role;
    json_response(204, &Value::Null, &[])
}

/// `{"status": 401}`, `{"status": 403}` or `{"status": null}`.
async fn admin_no_app_user(AxState(state): AxState<Shared>, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let status = v
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|n| u16::try_from(n).ok())
        .filter(|n| matches!(n, 401 | 403));
    lock(&state).no_application_user = status;
    json_response(204, &Value::Null, &[])
}
