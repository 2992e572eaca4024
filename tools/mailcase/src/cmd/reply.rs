//! `mailcase reply`: send a reply in a session's thread with the same code as the handoff
//! function's `kind: "reply"` request — through SESv2 with `--ses`, else into the store's local
//! outbox (`outbox/<id>.eml`).

use std::process::ExitCode;

use app::reply::{MailSender, Reply, ReplySettings, StoreOutbox};
use store::ObjectStore;
use store::ids::sha256_hex;
use store::sessions::Sessions;

use super::store::{StoreArgs, with_sessions};

/// Arguments of `mailcase reply`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArgs,
    /// The reply text.
    #[arg(long)]
    text: String,
    /// The From of the reply. Also SUPPORT_ADDRESS.
    #[arg(long, env = "SUPPORT_ADDRESS")]
    support_address: String,
    /// Send through SESv2 (AWS_* settings, AWS_ENDPOINT_URL honoured) instead of the outbox.
    #[arg(long)]
    ses: bool,
    /// Idempotency key: repeating the command with the same key sends nothing new (default: a
    /// digest of the text).
    #[arg(long)]
    reply_id: Option<String>,
    /// Session id.
    session: store::SessionId,
}

async fn send<O: ObjectStore, S: MailSender>(
    sessions: &Sessions<O>,
    sender: &S,
    args: &Args,
) -> anyhow::Result<ExitCode> {
    let settings = ReplySettings::from_lookup(
        |k| (k == "SUPPORT_ADDRESS").then(|| args.support_address.clone()),
        false,
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    let reply = Reply {
        session_id: args.session.to_string(),
        text: args.text.clone(),
        key: format!(
            "reply:{}",
            args.reply_id
                .clone()
                .unwrap_or_else(|| sha256_hex(&args.text))
        ),
        automatic: false,
    };
    let now = super::now();
    match app::reply::send(sessions, sender, &settings, &reply, now).await {
        Ok(out) => {
            // Never "sent" for mail that only reached the outbox: `via` says where it went,
            // `repeated` that an earlier attempt had already handed it over.
            let line = serde_json::json!({
                "session_id": out.session_id,
                "message_id": out.message_id,
                "via": sender.via(),
                "repeated": !out.sent,
            });
            println!("{line}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!(
                "mailcase reply: {}\nfix: {}",
                app::DisplayChain(&e),
                e.fix()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Send one reply and print `{"session_id","message_id","via","repeated"}`: through SESv2
/// for a bucket store (or with `--ses`), into the store's outbox for a directory store.
pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    if args.ses || args.store.bucket.is_some() {
        let aws = crate::logging::aws_config().await;
        let sender = ses::SesSender::from_conf(&aws);
        with_sessions!(args.store, |sessions| send(&sessions, &sender, args).await)
    } else {
        with_sessions!(args.store, |sessions| {
            let outbox = StoreOutbox::new(sessions.objects().clone());
            send(&sessions, &outbox, args).await
        })
    }
}
