//! A moto server for tests.
//!
//! The server comes from `$MOTO_PYTHON` if set, else from the virtualenv
//! `<workspace>/target/moto-venv`, which is created (`python3 -m venv`, `pip install
//! 'moto[server]'`) on first use under a file lock, so parallel test binaries install once.
//! moto runs inside a small Python wrapper that stops when its stdin closes: the test process
//! holds that pipe, so the server goes away with the tests even when they are killed.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// A running moto server.
pub struct MotoServer {
    port: u16,
    child: Mutex<Option<(Child, ChildStdin)>>,
}

const WRAPPER: &str = r#"
import sys, os
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
print("ready", flush=True)
sys.stdin.read()
server.stop()
os._exit(0)
"#;

/// The workspace root (the directory holding Cargo.lock).
pub fn workspace_root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("Cargo.lock").exists() {
        if !dir.pop() {
            panic!("no Cargo.lock above {}", env!("CARGO_MANIFEST_DIR"));
        }
    }
    dir
}

/// The Python that has moto installed, installing it first when needed.
pub fn moto_python() -> PathBuf {
    if let Some(p) = std::env::var_os("MOTO_PYTHON") {
        return PathBuf::from(p);
    }
    let target = workspace_root().join("target");
    let venv = target.join("moto-venv");
    let python = venv.join("bin/python");
    std::fs::create_dir_all(&target).expect("create target dir");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(target.join("moto-venv.lock"))
        .expect("lock file");
    lock.lock().expect("lock moto venv");
    if !venv.join("bin/moto_server").exists() {
        let log = target.join("moto-venv-install.log");
        let run = |cmd: &mut Command, what: &str| {
            let out = cmd
                .output()
                .unwrap_or_else(|e| panic!("{what}: cannot run: {e} (is python3 installed?)"));
            std::fs::write(&log, [&out.stdout[..], &out.stderr[..]].concat()).ok();
            assert!(out.status.success(), "{what} failed; see {}", log.display());
        };
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        );
        run(
            Command::new(venv.join("bin/pip")).args([
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "moto[server]",
            ]),
            "pip install moto[server]",
        );
    }
    python
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .expect("addr")
        .port()
}

impl MotoServer {
    /// Start a new server (stopped when dropped).
    pub fn start() -> MotoServer {
        let python = moto_python();
        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let mut child = Command::new(&python)
                .args(["-c", WRAPPER, &port.to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start moto with {}: {e}", python.display()));
            let stdin = child.stdin.take().expect("stdin");
            let stdout = child.stdout.take().expect("stdout");
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            if line.trim() == "ready" && wait_for_port(port, Duration::from_secs(30)) {
                return MotoServer {
                    port,
                    child: Mutex::new(Some((child, stdin))),
                };
            }
            last_error = format!("moto did not come up on port {port}");
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("{last_error}");
    }

    /// One server for the whole test binary.
    pub fn shared() -> &'static MotoServer {
        static SHARED: OnceLock<MotoServer> = OnceLock::new();
        SHARED.get_or_init(MotoServer::start)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Environment for a child process (the CLI, a function) to use this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// Shared AWS config pointing at this server with test credentials.
    pub async fn sdk_config(&self) -> SdkConfig {
        // The SDK crates have no default HTTPS client in this workspace (see Cargo.toml).
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .endpoint_url(self.endpoint())
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "testkit",
            ))
            .load()
            .await
    }

    /// An S3 client (path-style) for this server.
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let conf = aws_sdk_s3::config::Builder::from(&self.sdk_config().await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// Create a bucket with a unique name starting with `prefix`; returns the name.
    pub async fn bucket(&self, prefix: &str) -> String {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("{prefix}-{}-{n}", std::process::id());
        self.s3()
            .await
            .create_bucket()
            .bucket(&name)
            .send()
            .await
            .expect("create bucket");
        name
    }

    /// Stop the server now.
    pub fn stop(&self) {
        if let Some((mut child, mut stdin)) = self.child.lock().expect("lock").take() {
            let _ = stdin.flush();
            drop(stdin);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}
