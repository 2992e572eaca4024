//! Mail that arrives on a handed-off session. While the case is active, each message becomes a
//! note on it (once: the note's id derives from the case and the message). When the case is
//! resolved or cancelled, the message starts a new session that names the earlier ticket, so a
//! later handoff creates a new case.

use dynamics::{DataverseClient, DynamicsError, derived_id};
use store::session::{HandoffRecord, Session};
use store::sessions::{IdEntry, Sessions};
use store::{ObjectStore, Update};
use uuid::Uuid;

use crate::attachments::{self, Mode};
use crate::case::{HandoffError, Outcome, continuation_id, entry_of};
use crate::limits::{Column, LimitsCache};

/// Deliver the session's pending follow-ups; returns the existing case as the outcome.
#[allow(clippy::too_many_arguments)]
pub async fn deliver<O: ObjectStore>(
    sessions: &Sessions<O>,
    crm: &DataverseClient,
    limits: &LimitsCache,
    session: &Session,
    record: &HandoffRecord,
    reopen_days: u32,
    now: i64,
    mode: Mode,
) -> Result<Outcome, HandoffError> {
    let mut outcome = Outcome {
        session_id: session.id.clone(),
        incident_id: record.dynamics365_incident_id.clone(),
        ticket_number: record.dynamics365_ticket_number.clone(),
        created: false,
        dropped_properties: Vec::new(),
        followups_noted: 0,
        followups_new_sessions: Vec::new(),
        followup_keys: Vec::new(),
        truncated: false,
    };
    note_merged_cases(sessions, crm, session, record).await?;
    if session.pending_followups.is_empty() {
        return Ok(outcome);
    }
    let incident_id = Uuid::parse_str(&record.dynamics365_incident_id).map_err(|_| {
        HandoffError::BadRequest(format!(
            "session {} records an invalid incident id",
            session.id
        ))
    })?;
    let state = crm.incident(incident_id).await?;
    let active = state.as_ref().is_some_and(|s| s.state == 0);
    // A closed case within REOPEN_DAYS of its closing takes the mail back (reactivated, unless
    // the mail only says thanks); older, or undatable, it is continued by a new case.
    let reopenable = !active
        && reopen_days > 0
        && state.as_ref().is_some_and(|s| {
            s.modified_on
                .as_deref()
                .and_then(crate::time::parse_rfc3339)
                .is_some_and(|closed| now - closed <= i64::from(reopen_days) * 86_400)
        });
    let mut reactivated = false;
    // ATTACHMENTS=upload: each follow-up's files join the case, deduplicated against the whole
    // thread (attachments.rs).
    let files = match (mode, active || reopenable) {
        (Mode::Upload, true) => Some(attachments::plan(
            session,
            &limits.files_for(crm, session).await?,
        )),
        _ => None,
    };
    for key in &session.pending_followups {
        let Some(message) = session.messages.iter().find(|m| &m.key == key) else {
            continue;
        };
        let thanks = crate::threading::is_thanks_only(&message.reply_text);
        if active || reopenable {
            if !active && !thanks && !reactivated {
                crm.reactivate(incident_id).await?;
                reactivated = true;
                tracing::info!(%incident_id, "closed case reactivated by the customer's mail");
            }
            let entry = match &files {
                Some(plan) => attachments::annotate(entry_of(message), message, plan),
                None => entry_of(message),
            };
            add_follow_up_notes(crm, limits, incident_id, key, &entry).await?;
            if let Some(plan) = &files {
                attachments::upload(sessions, crm, session, incident_id, plan, Some(key)).await?;
            }
            outcome.followups_noted += 1;
            outcome.followup_keys.push(key.clone());
        } else {
            let new_id = continue_in_new_session(
                sessions,
                session,
                message,
                &record.dynamics365_ticket_number,
                &record.dynamics365_incident_id,
                now,
            )
            .await?;
            outcome.followups_new_sessions.push(new_id);
        }
        // Delivered: take it off the queue (a crash before this repeats the delivery, which
        // is idempotent).
        let done = key.clone();
        sessions
            .update(&session.id, move |cur| match cur {
                Some(mut s) if s.pending_followups.contains(&done) => {
                    s.pending_followups.retain(|k| k != &done);
                    Update::Write(s, ())
                }
                _ => Update::Keep(()),
            })
            .await?;
    }
    tracing::info!(
        noted = outcome.followups_noted,
        new_sessions = outcome.followups_new_sessions.len(),
        "follow-ups delivered"
    );
    Ok(outcome)
}

/// Each case of a session merged into this one (both had a case: merge.rs) gets a note naming
/// this case, once (the note's id derives from both), and leaves the list.
async fn note_merged_cases<O: ObjectStore>(
    sessions: &Sessions<O>,
    crm: &DataverseClient,
    session: &Session,
    record: &HandoffRecord,
) -> Result<(), HandoffError> {
    for merged in &session.merged_cases {
        match Uuid::parse_str(&merged.handoff.dynamics365_incident_id) {
            Ok(theirs) => {
                let note_id = derived_id("note", &format!("{theirs}/merged/{}", session.id));
                let text = merged_note(record, &session.id);
                match crm.add_note(note_id, theirs, "Thread merged", &text).await {
                    Ok(_) => {
                        tracing::info!(incident_id = %theirs, merged_session = %merged.session_id, "merged case noted with the case that holds the thread")
                    }
                    Err(e) if e.is_retryable() => return Err(e.into()),
                    Err(e) => {
                        tracing::warn!(incident_id = %theirs, error = %e, fix = %e.fix(), "Dynamics refused the note naming the case that holds the thread; it is left out")
                    }
                }
            }
            Err(_) => {
                tracing::warn!(merged_session = %merged.session_id, "a merged session records an invalid incident id; no note")
            }
        }
        let done = merged.session_id.clone();
        sessions
            .update(&session.id, move |cur| match cur {
                Some(mut s) if s.merged_cases.iter().any(|c| c.session_id == done) => {
                    s.merged_cases.retain(|c| c.session_id != done);
                    Update::Write(s, ())
                }
                _ => Update::Keep(()),
            })
            .await?;
    }
    Ok(())
}

/// The note on a merged session's case.
pub fn merged_note(holder: &HandoffRecord, holder_session: &str) -> String {
    format!(
        "This email thread continues in case {} (mailcase session {holder_session}). mailcase \
         found that both cases hold one thread and moved this case's mail there as notes; new \
         mail on the thread goes to that case.",
        holder.dynamics365_ticket_number
    )
}

/// One follow-up as notes (one unless it is longer than a note). The note limit is assumed
/// stock and read only when the text is longer, or when Dataverse refuses a length (then read
/// again and the notes written once more, create-only, so parts already written stay).
async fn add_follow_up_notes(
    crm: &DataverseClient,
    limits: &LimitsCache,
    incident_id: Uuid,
    key: &str,
    entry: &transcript::Entry,
) -> Result<(), HandoffError> {
    let mut max = limits.current().await.note;
    let mut parts = transcript::follow_up(entry, max);
    if parts.len() > 1 {
        let confirmed = limits.confirm(crm, &[Column::Note]).await?.note;
        if confirmed != max {
            max = confirmed;
            parts = transcript::follow_up(entry, max);
        }
    }
    let mut refreshed = false;
    'write: loop {
        for (i, text) in parts.iter().enumerate() {
            let note_id = derived_id("note", &format!("{incident_id}/followup/{key}/{i}"));
            match crm
                .add_note(note_id, incident_id, "Follow-up email", text)
                .await
            {
                Ok(_) => {}
                Err(DynamicsError::TooLong { table, column, .. })
                    if !refreshed
                        && (column.is_none()
                            || Column::named(table.as_deref(), column.as_deref())
                                == Some(Column::Note)) =>
                {
                    tracing::warn!(
                        "Dataverse refused a note's length; reading the column limits and retrying once"
                    );
                    refreshed = true;
                    max = limits.refresh(crm).await?.note;
                    parts = transcript::follow_up(entry, max);
                    continue 'write;
                }
                Err(e) => return Err(e.into()),
            }
        }
        return Ok(());
    }
}

async fn continue_in_new_session<O: ObjectStore>(
    sessions: &Sessions<O>,
    old: &Session,
    message: &store::session::MessageEntry,
    ticket: &str,
    parent_incident: &str,
    _now: i64,
) -> Result<String, HandoffError> {
    let new_id = continuation_id(&message.key);
    let mut first = message.clone();
    first.after_handoff = false;
    let date = first.date.clone();
    let created = Session {
        customer: old.customer.clone(),
        subject: first.subject.clone().unwrap_or_else(|| old.subject.clone()),
        thread_subject: old.thread_subject.clone(),
        previous_ticket: Some(ticket.to_string()),
        route: old.route.clone(),
        recipients: old.recipients.clone(),
        last_inbound_at: old.last_inbound_at,
        participants: old.participants.clone(),
        flood: old.flood,
        parent_incident: Some(parent_incident.to_string()),
        messages: vec![first],
        ..Session::new(&new_id, &date)
    };
    sessions
        .update(&new_id, move |cur| match cur {
            None => Update::Write(created.clone(), ()),
            Some(_) => Update::Keep(()),
        })
        .await?;
    // Later replies in this thread should land in the new session, not the closed one.
    if let Some(mid) = &message.message_id {
        sessions
            .repoint_message_id(
                mid,
                &IdEntry {
                    session_id: new_id.clone(),
                    message_key: Some(message.key.clone()),
                },
            )
            .await?;
    }
    if let Some(c) = &old.customer {
        let key = mail::subject::subject_key(&old.thread_subject);
        if !key.is_empty() && !c.address.is_empty() {
            sessions.set_subject(&c.address, &key, &new_id).await?;
        }
    }
    Ok(new_id)
}
