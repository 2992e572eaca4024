//! Case state changes as Dataverse answers them (../shared/reference/dataverse.md, A.3):
//! reactivation is a plain Update of `statecode` 0 with an active `statuscode` (1-4); closing
//! through Update is refused (CloseIncident is the way); a resolved or cancelled case takes no
//! other column updates (UNCONFIRMED: the UI shows it read-only, so the safe reading refuses).

use serde_json::{Map, Value};

use super::{Resp, error};

/// Check an update of an existing incident. `current` is the stored record.
pub fn check_incident_update(
    current: &Map<String, Value>,
    body: &Map<String, Value>,
) -> Result<(), Resp> {
    let state = body.get("statecode").and_then(Value::as_i64);
    let status = body.get("statuscode").and_then(Value::as_i64);
    let closed = current
        .get("statecode")
        .and_then(Value::as_i64)
        .unwrap_or(0)
        != 0;
    match state {
        Some(1) | Some(2) => {
            return Err(error(
                400,
                "0x80040203",
                "This message can not be used to set the state of incident to Closed. In order to set state of incident to Closed, use the CloseIncidentRequest message instead.",
            ));
        }
        Some(0) if !matches!(status, Some(1..=4)) => {
            return Err(error(
                400,
                "0x80040203",
                "Incident does not have valid status code",
            ));
        }
        Some(0) => {}
        Some(_) => {
            return Err(error(
                400,
                "0x80040203",
                "Incident does not have valid status code",
            ));
        }
        None => {}
    }
    let other = body.keys().any(|k| k != "statecode" && k != "statuscode");
    if closed && state != Some(0) && (other || status.is_some()) {
        return Err(error(
            400,
            "0x800404CF",
            "This case has already been resolved. Close and reopen the case record to see the updates.",
        ));
    }
    Ok(())
}

/// Now as Dataverse writes `modifiedon`.
pub fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn state_rules() {
        let active = obj(json!({"statecode": 0}));
        let resolved = obj(json!({"statecode": 1}));
        assert!(
            check_incident_update(&resolved, &obj(json!({"statecode": 0, "statuscode": 1})))
                .is_ok()
        );
        assert!(
            check_incident_update(&resolved, &obj(json!({"statecode": 0, "statuscode": 5})))
                .is_err()
        );
        assert!(
            check_incident_update(&active, &obj(json!({"statecode": 1, "statuscode": 5}))).is_err()
        );
        assert!(check_incident_update(&resolved, &obj(json!({"title": "x"}))).is_err());
        assert!(check_incident_update(&active, &obj(json!({"title": "x"}))).is_ok());
        assert!(now_utc().starts_with("20") && now_utc().ends_with('Z'));
    }
}
