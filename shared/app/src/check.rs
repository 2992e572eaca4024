//! One line of the connection test's checklist ([`Check`], [`Status`]): the report type
//! [`crate::verify`] and [`crate::privileges`] both produce. A leaf, so the privilege checks do
//! not depend on the module that runs them.

use dynamics::DynamicsError;
use serde::Serialize;

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Works.
    Ok,
    /// Broken: handoffs or mail will fail until fixed.
    Fail,
    /// Works, but probably not as intended.
    Warn,
    /// Not checked (the reason is in the detail).
    Skip,
}

impl Status {
    /// `OK`, `FAIL`, `WARN`, `SKIP`.
    pub fn label(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Skip => "SKIP",
        }
    }
}

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Short name (`token`, `queue`, `ticket_properties.casetypecode`...).
    pub name: String,
    /// Outcome.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do about it (failures and warnings).
    pub fix: Option<String>,
}

impl Check {
    pub(crate) fn new(name: impl Into<String>, status: Status, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            status,
            detail: detail.into(),
            fix: None,
        }
    }
    /// A passing check.
    pub fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
        Check::new(name, Status::Ok, detail)
    }
    /// A skipped check.
    pub fn skip(name: impl Into<String>, why: impl Into<String>) -> Check {
        Check::new(name, Status::Skip, why)
    }
    /// A failed check with its fix.
    pub fn fail(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check::new(name, Status::Fail, detail).with_fix(fix)
    }
    /// A warning with its fix.
    pub fn warn(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check::new(name, Status::Warn, detail).with_fix(fix)
    }
    pub(crate) fn with_fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
    pub(crate) fn from_error(name: &str, e: &DynamicsError) -> Check {
        Check::fail(name, e.to_string(), fix_of(e))
    }
}

/// The operator's fix for a Dynamics error, with transport failures named as such.
pub(crate) fn fix_of(e: &DynamicsError) -> String {
    match e {
        DynamicsError::Unavailable { status: 0, .. } => {
            "Dataverse or the token endpoint cannot be reached: check environment_url (and authority_host, if set) and the network path to them.".into()
        }
        other => other.fix(),
    }
}
