//! `serve` under hostile clients, over real sockets: sockets that never send a byte and half-sent requests are
//! closed after their timeouts, the connection cap holds (and frees up), a server reachable beyond loopback needs a
//! token or an explicit flag, and credentials given in the `--prometheus` URL never show in an answer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::process::{free_port, http_ok};
use common::{meshlens, simulate, stderr};

/// Serves a simulated snapshot with `extra` flags; returns the server, its port and the work directory.
fn serve(extra: &[&str]) -> (common::process::Server, u16, tempfile::TempDir) {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snapshot");
    simulate("bookinfo-canary", &snapshot, &[]);
    let (server, port) = common::serve_snapshot(&snapshot, work.path(), extra);
    (server, port, work)
}

/// How long until the server closes `stream` (reads return end of file or an error), up to `limit`.
fn closed_after(mut stream: TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => return None,
            Err(_) => return Some(started.elapsed()),
        }
    }
}

#[test]
fn idle_and_half_sent_connections_are_closed_and_the_cap_holds() {
    let (server, port, _work) =
        serve(&["--max-connections", "3", "--first-request-timeout", "2s", "--header-read-timeout", "2s"]);
    let connect = || TcpStream::connect(("127.0.0.1", port)).unwrap();
    // Never sends a byte: closed after the first-request timeout.
    let idle = closed_after(connect(), Duration::from_secs(10)).expect("an idle socket is closed");
    assert!(idle >= Duration::from_millis(1500) && idle < Duration::from_secs(5), "{idle:?}");
    // Sends half a request head: closed after the header read timeout.
    let mut half = connect();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").unwrap();
    let stalled = closed_after(half, Duration::from_secs(10)).expect("a half-sent request is closed");
    assert!(stalled < Duration::from_secs(5), "{stalled:?}");
    // Three idle sockets take every place: a fourth connection gets no answer, until they time out.
    let holders: Vec<TcpStream> = (0..3).map(|_| connect()).collect();
    std::thread::sleep(Duration::from_millis(300));
    let healthz = format!("http://127.0.0.1:{port}/healthz");
    assert!(!http_ok(&healthz), "the cap holds");
    std::thread::sleep(Duration::from_secs(3));
    assert!(http_ok(&healthz), "freed when the idle ones were closed");
    drop(holders);
    server.stop();
}

#[test]
fn a_server_reachable_beyond_loopback_needs_a_token_or_a_flag_that_says_so() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snapshot");
    simulate("bookinfo-canary", &snapshot, &[]);
    let out = meshlens(&["serve", "--snapshot", snapshot.to_str().unwrap(), "--addr", "0.0.0.0:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--allow-unauthenticated"), "{}", stderr(&out));
    let bad = meshlens(&["serve", "--snapshot", snapshot.to_str().unwrap(), "--max-connection-age", "0s"]);
    assert_eq!(bad.status.code(), Some(2), "limits are checked: {}", stderr(&bad));
}

#[test]
fn credentials_in_the_prometheus_url_never_show() {
    let closed = free_port();
    let url = format!("http://admin:pa55w0rd-do-not-show@127.0.0.1:{closed}/prom");
    let out = meshlens(&["graph", "--prometheus", &url, "-n", "bookinfo"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("cannot reach http://127.0.0.1:{closed}/prom")), "{err}");
    assert!(!err.contains("pa55w0rd") && !err.contains("admin"), "{err}");
    // Nor in the server's 502 answers.
    let (server, port, _work) = serve(&["--prometheus", &url]);
    let body = common::process::block_on(async {
        let answer = reqwest::get(format!("http://127.0.0.1:{port}/api/graph")).await.unwrap();
        assert_eq!(answer.status().as_u16(), 502);
        answer.text().await.unwrap()
    });
    assert!(body.contains("cannot reach") && !body.contains("pa55w0rd") && !body.contains("admin"), "{body}");
    server.stop();
}
