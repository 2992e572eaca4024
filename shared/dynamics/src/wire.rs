//! Dataverse wire names and formats: OData query encoding, JSON bodies, `$batch` multipart.

use serde_json::{Map, Value, json};
use uuid::Uuid;

/// Percent-encode a query value (everything but RFC 3986 unreserved characters).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An OData string literal: single quotes doubled (`O'Brien` -> `'O''Brien'`).
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `contacts?$select=...&$filter=emailaddress1 eq '<email>'` (value escaped and encoded).
pub fn contact_by_email_path(email: &str) -> String {
    format!(
        "contacts?$select=contactid,fullname,emailaddress1,createdon&$filter={}",
        encode(&format!("emailaddress1 eq {}", literal(email)))
    )
}

/// The incident body: business fields first, then `ticket_properties` (which never override
/// the fields mailcase sets itself).
#[allow(clippy::too_many_arguments)]
pub fn incident_body(
    title: &str,
    description: &str,
    contact_id: Uuid,
    owner: Option<(&str, Uuid)>,
    priority: Option<i64>,
    extra: &Map<String, Value>,
) -> Value {
    let mut body = Map::new();
    for (k, v) in extra {
        body.insert(k.clone(), v.clone());
    }
    body.insert("title".into(), json!(title));
    body.insert("description".into(), json!(description));
    body.insert("caseorigincode".into(), json!(2));
    body.insert(
        "customerid_contact@odata.bind".into(),
        json!(format!("/contacts({contact_id})")),
    );
    if let Some(p) = priority {
        body.insert("prioritycode".into(), json!(p));
    }
    if let Some((set, id)) = owner {
        body.insert("ownerid@odata.bind".into(), json!(format!("/{set}({id})")));
    }
    Value::Object(body)
}

/// A note on an incident.
pub fn note_body(subject: &str, text: &str, incident_id: Uuid) -> Value {
    json!({
        "subject": subject,
        "notetext": text,
        "isdocument": false,
        "objectid_incident@odata.bind": format!("/incidents({incident_id})"),
    })
}

/// `AddToQueue`'s body for an incident.
pub fn add_to_queue_body(incident_id: Uuid) -> Value {
    json!({"Target": {"incidentid": incident_id.to_string(), "@odata.type": "Microsoft.Dynamics.CRM.incident"}})
}

/// One request inside a change set.
pub struct BatchOp {
    /// HTTP method.
    pub method: &'static str,
    /// Absolute URL.
    pub url: String,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body.
    pub body: Value,
}

/// A `$batch` body holding one change set (atomic). Returns (content type, body).
pub fn batch(ops: &[BatchOp], id: Uuid) -> (String, String) {
    let batch = format!("batch_{id}");
    let changeset = format!("changeset_{id}");
    let mut s = format!("--{batch}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n");
    for (i, op) in ops.iter().enumerate() {
        s.push_str(&format!(
            "--{changeset}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {}\r\n\r\n{} {} HTTP/1.1\r\nContent-Type: application/json; charset=utf-8\r\n",
            i + 1,
            op.method,
            op.url
        ));
        for (k, v) in &op.headers {
            s.push_str(&format!("{k}: {v}\r\n"));
        }
        s.push_str(&format!("\r\n{}\r\n", op.body));
    }
    s.push_str(&format!("--{changeset}--\r\n--{batch}--\r\n"));
    (format!("multipart/mixed; boundary={batch}"), s)
}

/// One response part of a `$batch` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct PartResponse {
    /// The part's HTTP status.
    pub status: u16,
    /// The part's body (empty when none).
    pub body: String,
    /// The part's `Retry-After` in seconds (a throttled change set says how long to wait).
    pub retry_after: Option<u64>,
}

/// Read the response parts of a `$batch` answer in order: each embedded `HTTP/1.1 NNN` status
/// line and the body after its headers, up to the next boundary line.
pub fn parse_batch(text: &str) -> Vec<PartResponse> {
    let mut parts = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("HTTP/1.1 ") else {
            continue;
        };
        let status = rest.get(..3).and_then(|s| s.parse().ok()).unwrap_or(0);
        // headers until a blank line
        let mut retry_after = None;
        for h in lines.by_ref() {
            if h.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = h.split_once(':')
                && name.trim().eq_ignore_ascii_case("retry-after")
            {
                retry_after = value.trim().parse().ok();
            }
        }
        let mut body = String::new();
        while let Some(l) = lines.peek() {
            if l.starts_with("--") {
                break;
            }
            body.push_str(l);
            body.push('\n');
            lines.next();
        }
        parts.push(PartResponse {
            status,
            body: body.trim().to_string(),
            retry_after,
        });
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_escapes_quotes_and_encodes() {
        let p = contact_by_email_path("o'brien+x@example.com");
        assert!(
            p.ends_with("emailaddress1%20eq%20%27o%27%27brien%2Bx%40example.com%27"),
            "{p}"
        );
        let hostile = contact_by_email_path("x' or emailaddress1 ne 'y");
        assert!(
            hostile.contains("%27x%27%27%20or%20emailaddress1%20ne%20%27%27y%27"),
            "{hostile}"
        );
    }

    #[test]
    fn batch_round_trip_shape() {
        let ops = vec![BatchOp {
            method: "PATCH",
            url: "http://h/api/data/v9.2/incidents(1)".into(),
            headers: vec![("If-None-Match", "*".into())],
            body: json!({"a": 1}),
        }];
        let (ct, body) = batch(&ops, Uuid::nil());
        assert!(ct.starts_with("multipart/mixed; boundary=batch_"));
        assert!(body.contains("PATCH http://h/api/data/v9.2/incidents(1) HTTP/1.1\r\n"));
        assert!(body.contains("If-None-Match: *\r\n"));
        let answer = "--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n--changesetresponse_2\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"ticketnumber\":\"CAS-1\"}\r\n--changesetresponse_2\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--changesetresponse_2--\r\n--batchresponse_1--\r\n";
        let parts = parse_batch(answer);
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0],
            PartResponse {
                status: 200,
                body: "{\"ticketnumber\":\"CAS-1\"}".into(),
                retry_after: None,
            }
        );
        assert_eq!(parts[1].status, 204);
    }

    #[test]
    fn a_throttled_part_says_how_long_to_wait() {
        let answer = "--batchresponse_1\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nretry-after: 7\r\nContent-Type: application/json\r\n\r\n{\"error\":{}}\r\n--batchresponse_1--\r\n";
        let parts = parse_batch(answer);
        assert_eq!(parts.len(), 1);
        assert_eq!((parts[0].status, parts[0].retry_after), (429, Some(7)));
    }
}
