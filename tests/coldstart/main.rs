//! Cold-start init time of the two Lambda binaries, measured locally: from process start to the
//! runtime's first `GET /2018-06-01/runtime/invocation/next` on a fake Lambda Runtime API
//! (127.0.0.1), which is what Lambda reports as Init Duration. The fake holds that request open,
//! so no invocation runs. Init includes what `main` does before polling: reading the
//! environment, the AWS config, and for `handoff` the Dynamics secret from Secrets Manager
//! (moto here) and the Dataverse client (the token and metadata come at the first invocation).
//!
//! `cargo run --profile bench -p it --example coldstart -- [--runs N] [BIN_DIR | INGEST HANDOFF]`
//! (default: `target/release`, where both `--release` and `--profile bench` builds land). Prints
//! one line per binary: median, min and max of N starts (default 10) after one unmeasured warm-up
//! start.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// What the fake runtime API saw.
enum Seen {
    /// The first `/next` poll: init is done.
    Next(Instant),
    /// `POST /runtime/init/error`: init failed, with the body.
    InitError(String),
}

/// Serve the Runtime API's `next` (held open) and `init/error` on `listener`.
async fn fake_runtime_api(listener: TcpListener, tx: mpsc::UnboundedSender<Seen>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            continue;
        };
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break p + 4;
                }
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            };
            let at = Instant::now();
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let line = head.lines().next().unwrap_or("").to_string();
            if line.starts_with("GET /2018-06-01/runtime/invocation/next") {
                let _ = tx.send(Seen::Next(at));
                // Hold the long poll open until the process goes away.
                while let Ok(n) = sock.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                }
                return;
            }
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            while buf.len() < head_end + length {
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            if line.contains("/runtime/init/error") {
                let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                let _ = tx.send(Seen::InitError(body));
            }
            let _ = sock
                .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 16\r\ncontent-type: application/json\r\n\r\n{\"status\":\"OK\"}\n")
                .await;
        });
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Create the Dynamics secret in moto (with the moto venv's boto3: the `it` package has no
/// Secrets Manager client).
fn create_secret(endpoint: &str, name: &str, value: &str) {
    let script = "import sys, boto3\nc = boto3.client('secretsmanager', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\nc.create_secret(Name=sys.argv[2], SecretString=sys.stdin.read())\n";
    let mut child = Command::new(testkit::moto::moto_python())
        .args(["-c", script, endpoint, name])
        .stdin(Stdio::piped())
        .spawn()
        .expect("python");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(value.as_bytes())
            .expect("write secret");
    }
    assert!(child.wait().expect("python").success(), "create secret");
}

struct Env {
    runtime_api: String,
    vars: Vec<(&'static str, String)>,
}

/// Start `bin` once; milliseconds from spawn to its first `/next`.
async fn start_once(
    bin: &Path,
    name: &str,
    env: &Env,
    rx: &mut mpsc::UnboundedReceiver<Seen>,
) -> f64 {
    while rx.try_recv().is_ok() {}
    let log = std::env::temp_dir().join(format!("coldstart-{name}-{}.log", std::process::id()));
    let t0 = Instant::now();
    let mut child = Command::new(bin)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", &env.runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("RUST_LOG", "info")
        .envs(env.vars.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::from(std::fs::File::create(&log).expect("log file")))
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let ms = match tokio::time::timeout_at(deadline, rx.recv()).await {
        Ok(Some(Seen::Next(at))) => at.duration_since(t0).as_secs_f64() * 1000.0,
        Ok(Some(Seen::InitError(body))) => {
            let _ = child.kill();
            panic!("{name}: init error reported to the runtime API: {body}");
        }
        Ok(None) => unreachable!("the fake runtime API stopped"),
        Err(_) => {
            let _ = child.kill();
            let out = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("{name}: no /next within 30 s; its output:\n{out}");
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&log);
    ms
}

fn binaries(args: &[String]) -> (PathBuf, PathBuf) {
    let root = testkit::moto::workspace_root();
    match args {
        [ingest, handoff] => (PathBuf::from(ingest), PathBuf::from(handoff)),
        [dir] => (
            Path::new(dir).join("ingest"),
            Path::new(dir).join("handoff"),
        ),
        [] => {
            let dir = root.join("target/release");
            if dir.join("ingest").is_file() && dir.join("handoff").is_file() {
                return (dir.join("ingest"), dir.join("handoff"));
            }
            panic!(
                "no target/release/{{ingest,handoff}}: run `cargo build --profile bench -p ingest -p handoff`"
            )
        }
        _ => panic!("usage: coldstart [--runs N] [BIN_DIR | INGEST HANDOFF]"),
    }
}

#[tokio::main]
async fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 10usize;
    if let Some(i) = args.iter().position(|a| a == "--runs") {
        runs = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .expect("--runs N");
        args.drain(i..i + 2);
    }
    let (ingest, handoff) = binaries(&args);

    let moto = testkit::MotoServer::start();
    let bucket = moto.bucket("coldstart").await;
    let emu = dataverse_emulator::Emulator::start(dataverse_emulator::Config::default())
        .await
        .expect("emulator");
    let secret = "mailcase/dynamics";
    create_secret(&moto.endpoint(), secret, &emu.credentials_json());

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let runtime_api = listener.local_addr().expect("addr").to_string();
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(fake_runtime_api(listener, tx));
    let mut vars = moto.env();
    vars.push(("MAIL_BUCKET", bucket));
    vars.push(("DYNAMICS_SECRET_ID", secret.into()));
    vars.push(("DEFAULT_QUEUE_ID", emu.seeds().queue_id.to_string()));
    let env = Env { runtime_api, vars };

    println!(
        "cold-start init (process start to first /runtime/invocation/next), median of {runs} starts after one warm-up"
    );
    for (name, bin) in [("ingest", &ingest), ("handoff", &handoff)] {
        start_once(bin, name, &env, &mut rx).await;
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            times.push(start_once(bin, name, &env, &mut rx).await);
        }
        let (min, max) = times
            .iter()
            .fold((f64::MAX, 0.0f64), |(a, b), &t| (a.min(t), b.max(t)));
        let size = std::fs::metadata(bin).map(|m| m.len()).unwrap_or(0);
        println!(
            "{name:<8} median {:>7.1} ms  min {min:>7.1}  max {max:>7.1}  ({}, {:.1} MB)",
            median(&mut times),
            bin.display(),
            size as f64 / 1e6
        );
    }
    drop(emu);
    moto.stop();
}
