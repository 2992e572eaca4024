//! `dataverse-emulator [--port N] [--token-lifetime SECS]`: serve until killed, printing the
//! base URL and the credentials JSON (the Dynamics secret's shape).

use std::time::Duration;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Local Dataverse Web API + Entra token endpoint (127.0.0.1 only)")]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Token lifetime in seconds.
    #[arg(long, default_value_t = 3599)]
    token_lifetime: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cfg = dataverse_emulator::Config {
        port: args.port,
        token_lifetime: Duration::from_secs(args.token_lifetime),
        ..Default::default()
    };
    let emu = dataverse_emulator::Emulator::start(cfg).await?;
    let seeds = emu.seeds();
    println!("Dataverse emulator on {}", emu.base_url());
    println!("credentials: {}", emu.credentials_json());
    println!(
        "DEFAULT_QUEUE_ID={} DEFAULT_OWNER_ID={}",
        seeds.queue_id, seeds.user_id
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}
