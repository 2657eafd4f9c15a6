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

/// Opens `count` connections from `from` (a loopback address) to the server at `port`, each sending `head` and no
/// more; those the server refuses are reset, the others held open.
async fn hold(from: &str, port: u16, count: usize, head: &[u8]) -> Vec<tokio::net::TcpStream> {
    use tokio::io::AsyncWriteExt;
    let mut held = Vec::new();
    for _ in 0..count {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
        let Ok(mut stream) = socket.connect(([127, 0, 0, 1], port).into()).await else { continue };
        if stream.write_all(head).await.is_ok() {
            held.push(stream);
        }
    }
    held
}

/// `/healthz` asked from `from` on a fresh connection: how long the answer took (a failure panics).
async fn healthz_from(from: &str, port: u16) -> Duration {
    let client = reqwest::Client::builder()
        .local_address(from.parse::<std::net::IpAddr>().unwrap())
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let started = Instant::now();
    let answer = client.get(format!("http://127.0.0.1:{port}/healthz")).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    started.elapsed()
}

const HALF_SENT: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n";

#[test]
fn one_address_holding_a_thousand_half_sent_requests_leaves_room_for_others() {
    let (server, port, _work) = serve(&[]);
    common::process::block_on(async {
        let held = hold("127.0.0.2", port, 1000, HALF_SENT).await;
        for _ in 0..20 {
            let took = healthz_from("127.0.0.3", port).await;
            assert!(took < Duration::from_secs(1), "{took:?}");
        }
        drop(held);
    });
    server.stop();
}

#[test]
fn when_the_server_is_full_a_stalled_connection_makes_room() {
    let (server, port, _work) = serve(&["--max-connections", "20", "--max-connections-per-client", "10"]);
    common::process::block_on(async {
        let held = [hold("127.0.0.2", port, 10, HALF_SENT).await, hold("127.0.0.3", port, 10, HALF_SENT).await];
        assert_eq!(held.iter().map(Vec::len).sum::<usize>(), 20);
        // Stalled for longer than the moment a browser takes to send its request.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        for _ in 0..5 {
            let took = healthz_from("127.0.0.4", port).await;
            assert!(took < Duration::from_secs(1), "{took:?}");
        }
    });
    server.stop();
}

#[test]
fn a_head_over_the_limit_is_answered_431_and_closed_at_once() {
    let (server, port, _work) = serve(&["--max-header-bytes", "16384"]);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 20_000));
    let started = Instant::now();
    // Never completed: the header read timeout (10 s) would close it too, much later.
    let _ = stream.write_all(&head);
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let took = started.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
    assert!(took < Duration::from_secs(2), "closed after {took:?}");
    // A head within the limit is answered.
    assert!(http_ok(&format!("http://127.0.0.1:{port}/healthz")));
    server.stop();
}

/// The server's resident memory, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn unfinished_heads_hold_at_most_connections_times_the_header_limit() {
    let (server, port, _work) = serve(&[]);
    let before = rss_kib(server.pid());
    // 500 connections from ten addresses, each 31 KiB into a head the default 32 KiB allows.
    let mut head = HALF_SENT.to_vec();
    head.extend_from_slice(b"X-Filler: ");
    head.extend(std::iter::repeat_n(b'a', 31 * 1024 - head.len()));
    common::process::block_on(async {
        let mut held = Vec::new();
        for n in 2..12 {
            held.push(hold(&format!("127.0.0.{n}"), port, 50, &head).await);
        }
        assert_eq!(held.iter().map(Vec::len).sum::<usize>(), 500);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let during = rss_kib(server.pid());
        let grown_mib = during.saturating_sub(before) as f64 / 1024.0;
        println!("500 unfinished 31 KiB heads: RSS {before} KiB -> {during} KiB (+{grown_mib:.1} MiB)");
        // 500 x 32 KiB of head buffers is 15.6 MiB; twice that leaves room for the connections' own state.
        assert!(grown_mib < 32.0, "+{grown_mib:.1} MiB");
        drop(held);
    });
    server.stop();
}

#[test]
fn five_failed_sign_ins_from_one_address_leave_another_address_signing_in() {
    let work = tempfile::tempdir().unwrap();
    let token = "a-long-enough-test-token-0123456789";
    let token_file = work.path().join("token");
    std::fs::write(&token_file, token).unwrap();
    let (server, port, _snapshot_work) = serve(&["--auth-token-file", token_file.to_str().unwrap()]);
    let client = |from: &str| {
        reqwest::Client::builder()
            .local_address(from.parse::<std::net::IpAddr>().unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    };
    let url = format!("http://127.0.0.1:{port}");
    common::process::block_on(async {
        let sign_in = |from: &'static str, given: &'static str| {
            let (client, url) = (client(from), url.clone());
            async move {
                let answer = client.post(format!("{url}/login")).form(&[("token", given)]).send().await.unwrap();
                answer.status().as_u16()
            }
        };
        for _ in 0..5 {
            assert_eq!(sign_in("127.0.0.2", "wrong").await, 401);
        }
        assert_eq!(sign_in("127.0.0.2", token).await, 429, "throttled, the right token too");
        assert_eq!(sign_in("127.0.0.3", token).await, 303, "another address signs in");
        // Bearer guesses count the same way.
        let bearer = |from: &'static str, given: &'static str| {
            let (client, url) = (client(from), url.clone());
            async move {
                let answer = client.get(format!("{url}/api/workloads")).bearer_auth(given).send().await.unwrap();
                answer.status().as_u16()
            }
        };
        for _ in 0..5 {
            assert_eq!(bearer("127.0.0.4", "wrong").await, 401);
        }
        assert_eq!(bearer("127.0.0.4", token).await, 429);
        assert_eq!(bearer("127.0.0.5", token).await, 200);
        assert_eq!(bearer("127.0.0.2", token).await, 429, "a throttled address waits whichever way it asks");
    });
    server.stop();
}
