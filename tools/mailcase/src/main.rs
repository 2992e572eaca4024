//! `mailcase`: the operator's command-line tool. Every subcommand runs the same library code as
//! the Lambda functions, so what it prints is what production will do.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod logging;

#[derive(Parser)]
#[command(
    name = "mailcase",
    version,
    about = "Email threads to Dynamics 365 cases: local tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log to stderr: -v info, -vv debug (each Dataverse and AWS request), -vvv trace;
    /// RUST_LOG, when set, wins.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole path locally on embedded defaults (local store, Dataverse emulator) and
    /// print the case a rep sees.
    Demo(cmd::demo::Args),
    /// Show what mailcase makes of raw .eml files (one JSON object per line with --json).
    Parse(cmd::parse::Args),
    /// Print the reply text of a bare body (plain text, or HTML with --html).
    Strip(cmd::strip::Args),
    /// File .eml files into sessions (local directory or S3), as the ingest Lambda does.
    Ingest(cmd::ingest::Args),
    /// Hand a session off to Dynamics 365: one case, printed with its ticket number.
    Handoff(cmd::handoff::Args),
    /// List sessions.
    Sessions(cmd::sessions::ListArgs),
    /// Send a reply in a session's thread (SESv2 with --ses, else the local outbox).
    Reply(cmd::reply::Args),
    /// Show one session with its messages in order.
    Show(cmd::sessions::ShowArgs),
    /// Connection test: Dynamics, the store and SES, each check with its fix.
    Verify(cmd::verify::Args),
    /// Process handoff-queue requests (SQS, or the local store's queue) until it is empty.
    Work(cmd::work::Args),
    /// Show what a handoff of a session would give the case, creating nothing.
    Triage(cmd::triage::Args),
    /// What mailcase did lately: mail filed and not, rejected input, handoffs done and failed
    /// (with the fix), follow-ups pending, dead-letter queue depth, the email channel.
    Status(cmd::status::Args),
    /// List a session's attachments with what happened to each; --out writes the originals.
    Attachments(cmd::attachments::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mailcase: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo(args) => cmd::demo::run(&args).await,
            Command::Reply(args) => cmd::reply::run(&args).await,
            Command::Parse(args) => cmd::parse::run(&args),
            Command::Strip(args) => cmd::strip::run(&args),
            Command::Ingest(args) => cmd::ingest::run(&args).await,
            Command::Sessions(args) => cmd::sessions::list(&args).await,
            Command::Handoff(args) => cmd::handoff::run(&args).await,
            Command::Show(args) => cmd::sessions::show(&args).await,
            Command::Verify(args) => cmd::verify::run(&args).await,
            Command::Work(args) => cmd::work::run(&args).await,
            Command::Triage(args) => cmd::triage::run(&args).await,
            Command::Status(args) => cmd::status::run(&args).await,
            Command::Attachments(args) => cmd::attachments::run(&args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mailcase: {e:#}");
            ExitCode::FAILURE
        }
    }
}
