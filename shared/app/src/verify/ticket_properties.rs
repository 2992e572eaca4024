//! The `ticket_properties` checks: each `TICKET_PROPERTIES` column against the org's incident
//! metadata (the column exists under its logical name, the value fits its type, a text's
//! MaxLength, a choice's options), and the columns mailcase sets itself.

use ::dynamics::DataverseClient;
use serde_json::Value;

use super::{Check, option_list};

/// Columns mailcase writes itself: `ticket_properties` never override them.
const OWN_COLUMNS: &[&str] = &[
    "title",
    "description",
    "caseorigincode",
    "prioritycode",
    "customerid_contact@odata.bind",
    "incidentid",
];

pub(crate) async fn ticket_properties(
    crm: &DataverseClient,
    props: &serde_json::Map<String, Value>,
) -> Vec<Check> {
    if props.is_empty() {
        return vec![Check::ok("ticket_properties", "none set")];
    }
    let mut out = Vec::new();
    for (column, value) in props {
        out.push(ticket_property(crm, column, value).await);
    }
    out
}

async fn ticket_property(crm: &DataverseClient, column: &str, value: &Value) -> Check {
    let name = format!("ticket_properties.{column}");
    if OWN_COLUMNS.contains(&column) {
        return Check::warn(
            name,
            format!("mailcase sets {column} itself; this value is ignored"),
            format!(
                "Remove {column} from TICKET_PROPERTIES (use DEFAULT_PRIORITY for the priority)."
            ),
        );
    }
    if column.contains('@') {
        return Check::warn(
            name,
            "bindings are sent as given and not checked",
            "Check the bound record exists, or remove it from TICKET_PROPERTIES.",
        );
    }
    let kind = match crm.attribute_type("incident", column).await {
        Ok(Some(k)) => k,
        Ok(None) => {
            let lower = column.to_lowercase();
            let fix = if lower != column
                && matches!(crm.attribute_type("incident", &lower).await, Ok(Some(_)))
            {
                format!("{column}: use the logical name '{lower}' (lower case).")
            } else {
                format!(
                    "{column}: remove it from TICKET_PROPERTIES or use the column's logical name (Power Apps > Tables > Case > Columns; custom columns look like new_{lower})."
                )
            };
            return Check::fail(name, format!("incident has no column '{column}'"), fix);
        }
        Err(e) => return Check::from_error(&name, &e),
    };
    match kind.as_str() {
        "Picklist" | "State" | "Status" => picklist_property(crm, name, column, value).await,
        "String" | "Memo" => {
            let Some(s) = value.as_str() else {
                return Check::fail(
                    name,
                    format!("{column} is a text column but the value is {value}"),
                    format!("{column}: give a JSON string."),
                );
            };
            match crm.max_length("incident", column).await {
                Ok(Some(max)) if s.encode_utf16().count() > max => Check::fail(
                    name,
                    format!(
                        "{column}: {} characters, MaxLength is {max}",
                        s.encode_utf16().count()
                    ),
                    format!("{column}: shorten the value to at most {max} characters."),
                ),
                Ok(max) => Check::ok(
                    name,
                    match max {
                        Some(m) => format!("text within MaxLength {m}"),
                        None => "text".into(),
                    },
                ),
                Err(e) => Check::from_error(&name, &e),
            }
        }
        "Integer" | "BigInt" => match value.as_i64() {
            Some(n) => Check::ok(name, format!("whole number {n}")),
            None => Check::fail(
                name,
                format!("{column} is a whole number but the value is {value}"),
                format!("{column}: give an integer, e.g. 1."),
            ),
        },
        "Decimal" | "Double" | "Money" => match value.as_f64() {
            Some(n) => Check::ok(name, format!("number {n}")),
            None => Check::fail(
                name,
                format!("{column} is a number but the value is {value}"),
                format!("{column}: give a JSON number."),
            ),
        },
        "Boolean" => match value.as_bool() {
            Some(b) => Check::ok(name, format!("yes/no {b}")),
            None => Check::fail(
                name,
                format!("{column} is yes/no but the value is {value}"),
                format!("{column}: give true or false."),
            ),
        },
        "Lookup" | "Customer" | "Owner" => Check::fail(
            name,
            format!("{column} is a lookup and cannot be set by value"),
            format!(
                "{column}: bind it instead, e.g. \"<navigation property>@odata.bind\": \"/<entity set>(<guid>)\"."
            ),
        ),
        other => Check::warn(
            name,
            format!("{column} is a {other} column; its value is not checked"),
            format!("Check the {column} value by hand."),
        ),
    }
}

async fn picklist_property(
    crm: &DataverseClient,
    name: String,
    column: &str,
    value: &Value,
) -> Check {
    let options = match crm.options("incident", column).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            return Check::warn(
                name,
                format!("{column} is a choice column whose options could not be read"),
                format!("Check the {column} value by hand."),
            );
        }
        Err(e) => return Check::from_error(&name, &e),
    };
    let valid = || format!("{column}: use one of {}.", option_list(&options));
    match value {
        Value::Null => Check::ok(name, "null (left empty)"),
        Value::Number(n) => match n.as_i64() {
            Some(v) => match options.iter().find(|(o, _)| *o == v) {
                Some((_, label)) => Check::ok(name, format!("{v} ({label})")),
                None => Check::fail(
                    name,
                    format!("{column}: {v} is not one of its options"),
                    valid(),
                ),
            },
            None => Check::fail(name, format!("{column}: {n} is not an integer"), valid()),
        },
        Value::String(s) => {
            let t = s.trim();
            let by_label = options
                .iter()
                .find(|(_, l)| l.trim().eq_ignore_ascii_case(t));
            let by_number = t
                .parse::<i64>()
                .ok()
                .and_then(|n| options.iter().find(|(o, _)| *o == n));
            match by_label.or(by_number) {
                Some((v, label)) => Check::fail(
                    name,
                    format!(
                        "{column}: a choice takes the option's integer value, not the string {value}"
                    ),
                    format!("{column}: use {v} ({label}), not {value}"),
                ),
                None => Check::fail(
                    name,
                    format!("{column}: {value} is not an option (a choice takes an integer)"),
                    valid(),
                ),
            }
        }
        other => Check::fail(
            name,
            format!("{column}: {other} is not an option value"),
            valid(),
        ),
    }
}
