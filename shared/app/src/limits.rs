//! Column limits (incident title and description, note text), read lazily.
//!
//! Most orgs keep the stock limits and most threads fit them, so a handoff assumes the stock
//! values ([`Limits::default`]) and reads the org's metadata only when it matters:
//! - the text would not fit a stock limit: the real limit, possibly larger, decides whether
//!   (and where) to cut, so that column's `MaxLength` is read before cutting
//!   ([`LimitsCache::confirm`]);
//! - Dataverse refuses a length (400 `0x80044331`, [`DynamicsError::TooLong`]): the org has
//!   lowered a limit, so every column's `MaxLength` is read again ([`LimitsCache::refresh`]) and
//!   the write is retried once.
//!
//! What was read is kept for the life of the process, so a warm invocation never reads again
//! unless Dataverse refuses a length.

use dynamics::{DataverseClient, DynamicsError};
use tokio::sync::Mutex;

/// Column limits: the org's where read, stock otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// incident.title MaxLength.
    pub title: usize,
    /// incident.description MaxLength.
    pub description: usize,
    /// annotation.notetext MaxLength.
    pub note: usize,
}

impl Default for Limits {
    /// Stock Dataverse values.
    fn default() -> Self {
        Limits {
            title: 200,
            description: 2000,
            note: 100_000,
        }
    }
}

/// One of the limited columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// incident.title (a string column).
    Title,
    /// incident.description (a memo column).
    Description,
    /// annotation.notetext (a memo column).
    Note,
}

impl Column {
    /// All three.
    pub const ALL: [Column; 3] = [Column::Title, Column::Description, Column::Note];

    /// (table, column, memo?) as Dataverse names them.
    fn names(self) -> (&'static str, &'static str, bool) {
        match self {
            Column::Title => ("incident", "title", false),
            Column::Description => ("incident", "description", true),
            Column::Note => ("annotation", "notetext", true),
        }
    }

    /// The column a length refusal names (`None` for any other column, e.g. a ticket
    /// property).
    pub fn named(table: Option<&str>, column: Option<&str>) -> Option<Column> {
        Column::ALL.into_iter().find(|c| {
            let (t, col, _) = c.names();
            column == Some(col) && table.is_none_or(|n| n == t)
        })
    }

    fn get(self, l: &Limits) -> usize {
        match self {
            Column::Title => l.title,
            Column::Description => l.description,
            Column::Note => l.note,
        }
    }
}

/// What the org's metadata said, per column (`None`: not read, stock assumed).
#[derive(Debug, Default, Clone, Copy)]
struct Read {
    title: Option<usize>,
    description: Option<usize>,
    note: Option<usize>,
}

impl Read {
    fn slot(&mut self, c: Column) -> &mut Option<usize> {
        match c {
            Column::Title => &mut self.title,
            Column::Description => &mut self.description,
            Column::Note => &mut self.note,
        }
    }

    fn limits(&self) -> Limits {
        let stock = Limits::default();
        Limits {
            title: self.title.unwrap_or(stock.title),
            description: self.description.unwrap_or(stock.description),
            note: self.note.unwrap_or(stock.note),
        }
    }
}

/// Process-wide cache of the column limits read so far and of the org's file limits.
#[derive(Debug, Default)]
pub struct LimitsCache {
    columns: Mutex<Read>,
    /// `organizations` upload limits (see `attachments.rs`).
    pub(crate) files: Mutex<Option<dynamics::OrgFileLimits>>,
}

impl LimitsCache {
    /// The limits known now, without I/O: read values, stock for the rest.
    pub async fn current(&self) -> Limits {
        self.columns.lock().await.limits()
    }

    /// The limits with each of `columns` read from the org's metadata unless it was read
    /// before (a text that does not fit the stock limit). A column the metadata lacks keeps
    /// the stock value.
    pub async fn confirm(
        &self,
        crm: &DataverseClient,
        columns: &[Column],
    ) -> Result<Limits, DynamicsError> {
        let mut read = self.columns.lock().await;
        for &c in columns {
            if read.slot(c).is_none() {
                let value = read_one(crm, c).await?;
                *read.slot(c) = Some(value);
            }
        }
        Ok(read.limits())
    }

    /// Read every column's limit again (after Dataverse refused a length: the org's limits
    /// are not what this process assumed).
    pub async fn refresh(&self, crm: &DataverseClient) -> Result<Limits, DynamicsError> {
        let mut read = self.columns.lock().await;
        let mut fresh = Read::default();
        for c in Column::ALL {
            *fresh.slot(c) = Some(read_one(crm, c).await?);
        }
        *read = fresh;
        tracing::info!(title = ?fresh.title, description = ?fresh.description, note = ?fresh.note, "column limits read after a length refusal");
        Ok(read.limits())
    }
}

async fn read_one(crm: &DataverseClient, c: Column) -> Result<usize, DynamicsError> {
    let (table, column, memo) = c.names();
    Ok(crm
        .text_max_length(table, column, memo)
        .await?
        .unwrap_or(c.get(&Limits::default())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_our_columns_only() {
        assert_eq!(
            Column::named(Some("incident"), Some("description")),
            Some(Column::Description)
        );
        assert_eq!(
            Column::named(Some("annotation"), Some("notetext")),
            Some(Column::Note)
        );
        assert_eq!(Column::named(None, Some("title")), Some(Column::Title));
        assert_eq!(Column::named(Some("incident"), Some("new_reference")), None);
        assert_eq!(Column::named(Some("contact"), Some("description")), None);
        assert_eq!(Column::named(Some("incident"), None), None);
    }

    #[tokio::test]
    async fn nothing_read_means_stock() {
        assert_eq!(LimitsCache::default().current().await, Limits::default());
    }
}
