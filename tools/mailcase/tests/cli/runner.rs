//! The one way these tests run the built `mailcase` binary: a clean environment (nothing a
//! developer's shell sets leaks in), AWS pointed at the shared moto server or at nothing, the
//! test's own variables on top, and the output captured.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use testkit::MotoServer;

/// Variables a developer's shell might set that would change what a command does.
const CLEARED: &str = "DEFAULT_QUEUE_ID DEFAULT_OWNER_ID DEFAULT_PRIORITY TICKET_PROPERTIES \
    SESSION_URL_TEMPLATE SUPPORT_ADDRESS MAIL_BUCKET DYNAMICS_SECRET_ID ROUTING HANDOFF_POLICY \
    HANDOFF_QUEUE_URL HANDOFF_DLQ_URL HANDOFF_ACK EVENT_BUS SENTIMENT AWS_ENDPOINT_URL \
    AWS_ENDPOINT_URL_S3 AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION \
    AWS_DEFAULT_REGION AWS_PROFILE";

/// Where the command's AWS calls go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aws {
    /// The shared moto server, with its test credentials.
    Moto,
    /// Nowhere: no endpoint, no credentials, no profile files, no instance metadata.
    None,
}

/// One finished run.
pub struct Run {
    pub out: Output,
    pub stdout: String,
}

impl Run {
    pub fn ok(&self) -> bool {
        self.out.status.success()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr())
    }

    /// stdout as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }

    /// The check called `name` in `verify --json`'s checklist.
    pub fn check(&self, name: &str) -> Value {
        self.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no check {name}: {}", self.stdout))
    }
}

/// A command's stdout as JSON lines.
pub fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The command: `mailcase ARGS` in a cleared environment with `aws`, then `env`.
pub fn command(args: &[&str], env: &[(&str, String)], aws: Aws, dir: Option<&Path>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailcase"));
    cmd.args(args);
    for k in CLEARED.split_whitespace() {
        cmd.env_remove(k);
    }
    match aws {
        Aws::Moto => {
            for (k, v) in MotoServer::shared().env() {
                cmd.env(k, v);
            }
        }
        Aws::None => {
            cmd.env("AWS_CONFIG_FILE", "/nonexistent/mailcase-test/config")
                .env(
                    "AWS_SHARED_CREDENTIALS_FILE",
                    "/nonexistent/mailcase-test/credentials",
                )
                .env("AWS_EC2_METADATA_DISABLED", "true");
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    cmd
}

fn finished(out: Output) -> Run {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    Run { out, stdout }
}

/// Run `mailcase ARGS` (see [`command`]) without blocking the test's runtime, which may be
/// serving the Dataverse emulator the command talks to.
pub async fn mailcase(args: &[&str], env: &[(&str, String)], aws: Aws) -> Run {
    let out = tokio::process::Command::from(command(args, env, aws, None))
        .output()
        .await
        .expect("run mailcase");
    finished(out)
}

/// Run `mailcase ARGS` in `dir`, without AWS, from a plain (non-async) test.
pub fn mailcase_in(dir: &Path, args: &[&str]) -> Run {
    let out = command(args, &[], Aws::None, Some(dir))
        .output()
        .expect("run mailcase");
    finished(out)
}

/// A Dataverse emulator with stock settings, a temporary directory, and the emulator's
/// credentials written to `creds.json` in it (what `--credentials` takes).
pub async fn emulator_with_credentials() -> (
    dataverse_emulator::Emulator,
    tempfile::TempDir,
    std::path::PathBuf,
) {
    let emu = dataverse_emulator::Emulator::start(dataverse_emulator::Config::default())
        .await
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let creds = tmp.path().join("creds.json");
    std::fs::write(&creds, emu.credentials_json()).unwrap();
    (emu, tmp, creds)
}

/// `mailcase ingest --store STORE FILES` (see [`mailcase`]).
pub async fn ingest(store: &Path, files: &[&str], env: &[(&str, String)], aws: Aws) -> Run {
    let mut args = vec!["ingest", "--store", store.to_str().unwrap()];
    args.extend_from_slice(files);
    mailcase(&args, env, aws).await
}

/// `mailcase CMD --store STORE --credentials CREDS ARGS` (see [`mailcase`]): a command on a
/// local store that talks to the Dataverse whose credentials are in `creds`.
pub async fn on_store(
    cmd: &str,
    store: &Path,
    creds: &Path,
    args: &[&str],
    env: &[(&str, String)],
    aws: Aws,
) -> Run {
    let mut all = vec![
        cmd,
        "--store",
        store.to_str().unwrap(),
        "--credentials",
        creds.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    mailcase(&all, env, aws).await
}

/// A new queue `name` on the shared moto server, holding `bodies`: its URL.
pub async fn sqs_queue(name: &str, bodies: impl IntoIterator<Item = String>) -> String {
    let sqs = aws_sdk_sqs::Client::new(&MotoServer::shared().sdk_config().await);
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    for body in bodies {
        sqs.send_message()
            .queue_url(&url)
            .message_body(body)
            .send()
            .await
            .unwrap();
    }
    url
}
