//! One thread, one session, whatever the arrival order. When a message proves two sessions are
//! one thread (its own Message-ID is held by one session, an id it references by another), the
//! younger joins the older — or the handed-off one, so its case keeps the whole thread (when
//! both were handed off, the younger's case later gets a note naming the older's): the
//! younger is first marked as a redirect (compare-and-swap, which also fixes the messages it
//! holds at that moment; a concurrent ingest then follows the redirect), then its messages,
//! participants and index entries move. Every step is idempotent, so a crash or a concurrent
//! merge of the same pair is repaired by the next message or retry.

use store::session::{MergedCase, Session, SessionState};
use store::sessions::{IdEntry, Sessions};
use store::{ObjectStore, StoreError, Update};

/// Redirect hops followed at most (a merge chain longer than this is left as it is).
const MAX_HOPS: usize = 8;

/// Redirects ingest's commit follows at most before calling the chain a cycle: twice
/// [`MAX_HOPS`], as the chain may grow while the commit walks it (concurrent merges).
pub(crate) const MAX_COMMIT_HOPS: usize = 2 * MAX_HOPS;

/// The session `id` ends up in, following redirects.
pub async fn resolve<O: ObjectStore>(
    sessions: &Sessions<O>,
    id: &str,
) -> Result<String, StoreError> {
    Ok(load_resolved(sessions, id)
        .await?
        .map(|s| s.id)
        .unwrap_or_else(|| id.to_string()))
}

/// Load the session `id`, following redirects: one read when it was never merged.
pub async fn load_resolved<O: ObjectStore>(
    sessions: &Sessions<O>,
    id: &str,
) -> Result<Option<Session>, StoreError> {
    Ok(follow(sessions, id).await?.1)
}

/// [`load_resolved`], also returning what was read of the session it ends at (a seed for
/// updating it without reading again).
pub async fn load_resolved_seeded<O: ObjectStore>(
    sessions: &Sessions<O>,
    id: &str,
) -> Result<(Option<Session>, store::Seed), StoreError> {
    let (_, session, read) = follow(sessions, id).await?;
    Ok((session, read))
}

/// The id a chain of redirects from `id` ends at, and that session (`None`: not written yet).
async fn load_end<O: ObjectStore>(
    sessions: &Sessions<O>,
    id: &str,
) -> Result<(String, Option<Session>), StoreError> {
    let (end, session, _) = follow(sessions, id).await?;
    Ok((end, session))
}

/// The one redirect walk: from `id` to the session the chain ends at (at most [`MAX_HOPS`]
/// hops; a longer chain stops at its last redirect), with what was read of it.
async fn follow<O: ObjectStore>(
    sessions: &Sessions<O>,
    id: &str,
) -> Result<(String, Option<Session>, store::Seed), StoreError> {
    let mut id = id.to_string();
    let (mut current, mut read) = sessions.load_seeded(&id).await?;
    for _ in 0..MAX_HOPS {
        match current.as_ref().and_then(|s| s.merged_into.clone()) {
            Some(next) if next != id => {
                (current, read) = sessions.load_seeded(&next).await?;
                id = next;
            }
            _ => break,
        }
    }
    Ok((id, current, read))
}

/// `missing` is claimed (an index entry points at it) but not written yet: a concurrent ingest
/// is about to create it. Create it first, as a redirect to `into`, so that ingest's commit
/// follows the redirect; if it was written meanwhile, merge the two as usual. Without this, each
/// side could see the other not there yet and both stay apart.
async fn forestall<O: ObjectStore>(
    sessions: &Sessions<O>,
    missing: &str,
    into: &Session,
    depth: usize,
) -> Result<Merged, StoreError> {
    let stub = Session::redirect(missing, &into.id, &into.created_at);
    let into = into.id.as_str();
    let created = sessions
        .update(missing, move |cur| match cur {
            None => Update::Write(stub.clone(), true),
            Some(_) => Update::Keep(false),
        })
        .await?;
    if created {
        tracing::info!(session_id = %into, merged = %missing, "a session about to be created redirects to this one: one thread");
        return Ok(Merged {
            into: into.to_string(),
            new_followups: false,
        });
    }
    if depth >= MAX_HOPS {
        return Ok(Merged {
            into: into.to_string(),
            new_followups: false,
        });
    }
    merge_at(sessions, into, missing, depth + 1).await
}

/// Which of two sessions the thread keeps: the handed-off one when just one is, else the older.
fn keeper<'a>(a: &'a Session, b: &'a Session) -> (&'a Session, &'a Session) {
    let handed = |s: &Session| s.state == SessionState::HandedOff;
    match (handed(a), handed(b)) {
        (true, false) => (a, b),
        (false, true) => (b, a),
        _ if (a.created_at.as_str(), a.id.as_str()) <= (b.created_at.as_str(), b.id.as_str()) => {
            (a, b)
        }
        _ => (b, a),
    }
}

/// What a merge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Merged {
    /// The session that holds the thread now.
    pub into: String,
    /// Messages (or a case) moved onto a handed-off session: they wait as follow-ups.
    pub new_followups: bool,
}

/// Merge the sessions `a` and `b` (after following redirects) into one.
pub async fn merge<O: ObjectStore>(
    sessions: &Sessions<O>,
    a: &str,
    b: &str,
) -> Result<Merged, StoreError> {
    merge_at(sessions, a, b, 0).await
}

async fn merge_at<O: ObjectStore>(
    sessions: &Sessions<O>,
    a: &str,
    b: &str,
    depth: usize,
) -> Result<Merged, StoreError> {
    // Each side as it is now, redirects followed (a side read as a redirect is never a keeper:
    // that would close a cycle).
    let (a, sa) = load_end(sessions, a).await?;
    let (b, sb) = load_end(sessions, b).await?;
    if a == b {
        return Ok(Merged {
            into: a,
            new_followups: false,
        });
    }
    let (sa, sb) = match (sa, sb) {
        (Some(sa), Some(sb)) => (sa, sb),
        (Some(sa), None) => return Box::pin(forestall(sessions, &b, &sa, depth)).await,
        (None, Some(sb)) => return Box::pin(forestall(sessions, &a, &sb, depth)).await,
        (None, None) => {
            return Ok(Merged {
                into: a,
                new_followups: false,
            });
        }
    };
    let (keep, gone) = keeper(&sa, &sb);
    let (keep, gone) = (keep.id.clone(), gone.id.clone());
    if sa.state == SessionState::HandedOff && sb.state == SessionState::HandedOff {
        tracing::warn!(session_id = %keep, merged = %gone, "two handed-off sessions are one thread: the younger's case gets a note naming the older's");
    }
    // 1. The redirect, fixing what the younger holds.
    let target = keep.clone();
    let marked: Result<Session, Option<String>> = sessions
        .update(&gone, move |cur| match cur {
            Some(mut s) if s.merged_into.is_none() => {
                s.merged_into = Some(target.clone());
                let snapshot = s.clone();
                Update::Write(s, Ok(snapshot))
            }
            Some(s) => Update::Keep(Err(s.merged_into)),
            None => Update::Keep(Err(None)),
        })
        .await?;
    let moved = match marked {
        Ok(snapshot) => snapshot,
        // Someone merged it elsewhere first: join the keeper with that one instead.
        Err(Some(elsewhere)) if elsewhere != keep && depth < MAX_HOPS => {
            return Box::pin(merge_at(sessions, &keep, &elsewhere, depth + 1)).await;
        }
        Err(_) => {
            return Ok(Merged {
                into: keep,
                new_followups: false,
            });
        }
    };
    // 2. Its messages and people, into the keeper (following it if it was itself merged
    // meanwhile, so nothing lands in a redirect).
    let mut keep = keep;
    let mut hops = 0;
    let new_followups = loop {
        hops += 1;
        let incoming = moved.clone();
        let done: Result<bool, String> = sessions
            .update(&keep, move |cur| match cur {
                Some(s) if s.merged_into.is_some() => {
                    Update::Keep(Err(s.merged_into.clone().unwrap_or_default()))
                }
                Some(mut s) => {
                    let handed = s.state == SessionState::HandedOff;
                    let mut pending = false;
                    for m in &incoming.messages {
                        if s.contains(&m.key) {
                            continue;
                        }
                        let mut m = m.clone();
                        if handed && !m.after_handoff {
                            m.after_handoff = true;
                            s.pending_followups.push(m.key.clone());
                            pending = true;
                        }
                        s.insert(m);
                    }
                    for k in &incoming.pending_followups {
                        if handed && !s.pending_followups.contains(k) {
                            s.pending_followups.push(k.clone());
                            pending = true;
                        }
                    }
                    // Both had a case: the younger's gets a note naming this one (followup.rs).
                    if handed
                        && incoming.state == SessionState::HandedOff
                        && let Some(theirs) = &incoming.handoff
                        && s.handoff.as_ref().is_none_or(|h| {
                            h.dynamics365_incident_id != theirs.dynamics365_incident_id
                        })
                        && !s.merged_cases.iter().any(|c| c.session_id == incoming.id)
                    {
                        s.merged_cases.push(MergedCase {
                            session_id: incoming.id.clone(),
                            handoff: theirs.clone(),
                        });
                        pending = true;
                    }
                    s.add_participants(&incoming.participants);
                    s.last_inbound_at = s.last_inbound_at.max(incoming.last_inbound_at);
                    s.flood |= incoming.flood;
                    Update::Write(s, Ok(pending))
                }
                None => Update::Keep(Ok(false)),
            })
            .await?;
        match done {
            Ok(p) => break p,
            Err(next) if next != keep && next != gone && hops < MAX_HOPS => keep = next,
            Err(next) => {
                tracing::warn!(session_id = %keep, merged = %gone, next = %next, "the keeper was merged on meanwhile; the messages stay where they are until the next message repairs it");
                break false;
            }
        }
    };
    // 3. Its index entries point at the keeper.
    for m in &moved.messages {
        if let Some(id) = &m.message_id {
            sessions
                .repoint_message_id(
                    id,
                    &IdEntry {
                        session_id: keep.clone(),
                        message_key: Some(m.key.clone()),
                    },
                )
                .await?;
        }
    }
    tracing::info!(session_id = %keep, merged = %gone, messages = moved.messages.len(), "sessions merged: one thread");
    Ok(Merged {
        into: keep,
        new_followups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::MemoryObjectStore;

    fn open(id: &str, created_at: &str) -> Session {
        Session::new(id, created_at)
    }

    #[tokio::test]
    async fn a_session_claimed_but_not_written_yet_becomes_a_redirect_to_the_other() {
        let sessions = Sessions::new(MemoryObjectStore::default());
        let older = open("mc-older", "2024-03-12T10:00:00Z");
        sessions
            .update("mc-older", move |_| Update::Write(older.clone(), ()))
            .await
            .expect("write");
        let merged = merge(&sessions, "mc-older", "mc-coming")
            .await
            .expect("merge");
        assert_eq!(merged.into, "mc-older");
        let stub = sessions
            .load("mc-coming")
            .await
            .expect("load")
            .expect("stub");
        assert_eq!(stub.merged_into.as_deref(), Some("mc-older"));
        assert_eq!(
            resolve(&sessions, "mc-coming").await.expect("resolve"),
            "mc-older"
        );
        // Once written, the pair merges as usual (nothing to do: it is a redirect already).
        let again = merge(&sessions, "mc-coming", "mc-older")
            .await
            .expect("merge");
        assert_eq!(again.into, "mc-older");
    }

    #[tokio::test]
    async fn the_younger_of_two_written_sessions_joins_the_older() {
        let sessions = Sessions::new(MemoryObjectStore::default());
        for (id, at) in [
            ("mc-b", "2024-03-12T10:05:00Z"),
            ("mc-a", "2024-03-12T10:00:00Z"),
        ] {
            let s = open(id, at);
            sessions
                .update(id, move |_| Update::Write(s.clone(), ()))
                .await
                .expect("write");
        }
        let merged = merge(&sessions, "mc-b", "mc-a").await.expect("merge");
        assert_eq!(merged.into, "mc-a");
        let b = sessions.load("mc-b").await.expect("load").expect("b");
        assert_eq!(b.merged_into.as_deref(), Some("mc-a"));
    }
}
