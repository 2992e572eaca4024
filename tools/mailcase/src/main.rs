//! `mailcase`: the operator's command-line tool. Every subcommand runs the same library code as
//! the Lambda functions, so what it prints is what production will do.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

#[derive(Parser)]
#[command(
    name = "mailcase",
    version,
    about = "Email threads to Dynamics 365 cases: local tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show what mailcase makes of raw .eml files (one JSON object per line with --json).
    Parse(cmd::parse::Args),
    /// Print the reply text of a bare body (plain text, or HTML with --html).
    Strip(cmd::strip::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse(args) => cmd::parse::run(&args),
        Command::Strip(args) => cmd::strip::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mailcase: {e:#}");
            ExitCode::FAILURE
        }
    }
}
