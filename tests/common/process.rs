//! Running real servers for tests and benchmarks: find the program (missing is a failure, never a skip), pick a
//! free 127.0.0.1 port, start it tied to our process (it dies when we do), wait until it answers.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A program the tests need.
pub fn require(program: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(program)).find(|p| p.is_file()));
    found.unwrap_or_else(|| panic!("{program} is not installed: run scripts/install-test-deps (Debian packages)"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Runs a future to completion on a fresh runtime (tests are synchronous).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(future)
}

pub fn http_ok(url: &str) -> bool {
    block_on(async { reqwest::get(url).await.is_ok_and(|r| r.status().is_success()) })
}

pub fn http_post(url: &str, body: String) {
    block_on(async {
        let response = reqwest::Client::new().post(url).body(body).send().await.expect("POST sent");
        assert!(response.status().is_success(), "POST {url}: {}", response.status());
    });
}

/// A server started by [`spawn`]; stopped on [`Server::stop`] or when the test process exits.
pub struct Server {
    pub url: String,
    pid_file: PathBuf,
}

impl Server {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        std::fs::read_to_string(&self.pid_file).expect("pid file").trim().parse().expect("a pid")
    }

    pub fn stop(&self) {
        if let Ok(pid) = std::fs::read_to_string(&self.pid_file) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// Starts `program args` (logging to `log`) under a shell that kills it when this process exits, then waits up to
/// 60 s for `ready_path` to answer.
pub fn spawn(program: &Path, args: &[String], log: &Path, port: u16, ready_path: &str) -> Server {
    let url = format!("http://127.0.0.1:{port}");
    let ready = format!("{url}{ready_path}");
    spawn_until(program, args, log, url, || http_ok(&ready))
}

/// As [`spawn`], serving at `url`, ready when `ready` says so (checked for up to 60 s).
pub fn spawn_until(program: &Path, args: &[String], log: &Path, url: String, ready: impl Fn() -> bool) -> Server {
    let me = std::process::id();
    let pid_file = log.with_extension("pid");
    let quoted: Vec<String> = std::iter::once(program.display().to_string())
        .chain(args.iter().cloned())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    let script = format!(
        "{} > '{}' 2>&1 & child=$!; echo $child > '{}'; \
         while kill -0 {me} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done; kill $child 2>/dev/null",
        quoted.join(" "),
        log.display(),
        pid_file.display()
    );
    let watcher = Command::new("sh").arg("-c").arg(script).stdin(Stdio::null()).spawn().expect("sh runs");
    // The watcher exits on its own when the test process does; keep its handle for the process's lifetime.
    static WATCHERS: Mutex<Vec<Child>> = Mutex::new(Vec::new());
    WATCHERS.lock().expect("watchers").push(watcher);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "{url} not ready after 60 s; log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    Server { url, pid_file }
}

/// A run of meshlens under GNU time: what meshlens wrote, its peak RSS and how long it took.
pub struct Measured {
    pub output: std::process::Output,
    pub peak_kb: u64,
    pub elapsed: Duration,
}

/// Runs `meshlens args` under GNU time, which writes its figure to a file of its own, so stdout and stderr stay
/// meshlens'. (A child of the test itself would report the test's own RSS when larger: it is inherited across
/// fork and exec.)
pub fn meshlens_measured(args: &[&str]) -> Measured {
    let report = tempfile::NamedTempFile::new().expect("a temporary file");
    let report_path = report.path().to_str().expect("a UTF-8 path");
    let started = Instant::now();
    let output = Command::new(require("time"))
        .args(["-f", "%M", "-o", report_path, env!("CARGO_BIN_EXE_meshlens")])
        .args(args)
        .output()
        .expect("time runs meshlens");
    let elapsed = started.elapsed();
    let figure = std::fs::read_to_string(report.path()).expect("time's report");
    // On failure, time writes "Command exited with non-zero status N" before the figure.
    let peak_kb = figure.lines().last().and_then(|l| l.trim().parse().ok()).expect("time's %M");
    Measured { output, peak_kb, elapsed }
}

/// CPU seconds (user + system) process `pid` has used so far (/proc/PID/stat, in clock ticks).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the process is running");
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')').expect("a command name").1.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).expect("utime and stime");
    let per_second = Command::new("getconf").arg("CLK_TCK").output().expect("getconf runs");
    let per_second: f64 = String::from_utf8_lossy(&per_second.stdout).trim().parse().expect("CLK_TCK");
    (field(11) + field(12)) / per_second
}

/// Backfills an OpenMetrics file into a Prometheus data directory with promtool.
pub fn backfill(file: &Path, data: &Path) {
    let out = Command::new(require("promtool"))
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        // One block for a day's samples, as a live server holds its last hours in one (its head block): with
        // promtool's default of two hours, a window ending on the hour (as the simulator's do) spans two blocks
        // and every query merges them, at twice the cost of reading the series once.
        .arg("--max-block-duration=24h")
        .arg(file)
        .arg(data)
        .output()
        .expect("promtool runs");
    assert!(out.status.success(), "promtool backfill of {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
}

/// Starts Prometheus on an existing data directory, keeping backfilled blocks forever.
pub fn start_prometheus(data: &Path, work: &Path) -> Server {
    start_prometheus_with(data, work, "global:\n  scrape_interval: 30s\n")
}

/// A Prometheus with its own configuration (e.g. scrape jobs).
pub fn start_prometheus_with(data: &Path, work: &Path, config_text: &str) -> Server {
    let config = work.join("prometheus.yml");
    std::fs::write(&config, config_text).expect("config written");
    let port = free_port();
    let args = vec![
        format!("--config.file={}", config.display()),
        format!("--storage.tsdb.path={}", data.display()),
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--storage.tsdb.retention.time=100y".to_string(),
    ];
    spawn(&require("prometheus"), &args, &work.join("prometheus.log"), port, "/-/ready")
}
