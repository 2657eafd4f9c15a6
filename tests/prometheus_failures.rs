//! What the graph command says when the telemetry server misbehaves: down, slow, failing, talking nonsense, or
//! answering with warnings. Never a silently empty graph.
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
use std::net::TcpListener;
use std::time::Duration;

use common::{meshlens, stderr};

/// A one-purpose HTTP server on 127.0.0.1 answering up to `connections` requests with `respond`, then exiting.
fn fake_server(connections: usize, respond: impl Fn(&str) -> Option<String> + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Read headers and (for POST) the body announced by Content-Length.
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0usize);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let text = String::from_utf8_lossy(&request).into_owned();
            match respond(&text) {
                Some(response) => {
                    let _ = stream.write_all(response.as_bytes());
                }
                // Hold the connection open without answering, longer than the client waits.
                None => std::thread::sleep(Duration::from_secs(5)),
            }
        }
    });
    url
}

fn http(status: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

const EMPTY: &str = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;

fn graph_with(url: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["graph", "--prometheus", url, "-n", "bookinfo"];
    args.extend_from_slice(extra);
    meshlens(&args)
}

#[test]
fn prometheus_down_names_the_server_and_the_query() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = graph_with(&format!("http://127.0.0.1:{port}"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("cannot reach http://127.0.0.1:{port} for query `sum by (")), "{err}");
    assert!(err.contains("istio_requests_total"), "{err}");
}

#[test]
fn a_slow_prometheus_times_out_with_the_query_named() {
    let url = fake_server(1, |_| None);
    let started = std::time::Instant::now();
    let out = graph_with(&url, &["--prometheus-timeout", "1s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(started.elapsed() < Duration::from_secs(4), "gave up after the timeout");
    let err = stderr(&out);
    assert!(err.contains("timed out after 1s") && err.contains("istio_requests_total"), "{err}");
}

#[test]
fn an_error_answer_is_reported_with_its_type() {
    let body = r#"{"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"}"#;
    let url = fake_server(1, move |_| Some(http("422 Unprocessable Entity", body)));
    let out = graph_with(&url, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("failed: execution: query processing would load too many samples"), "{err}");
}

#[test]
fn garbage_is_reported_not_drawn() {
    let url = fake_server(1, |_| Some(http("200 OK", "<html>login required</html>")));
    let out = graph_with(&url, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("sent an unreadable answer to query"), "{}", stderr(&out));
    let url = fake_server(1, |_| Some(http("502 Bad Gateway", "upstream connect error")));
    let out = graph_with(&url, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("answered HTTP 502") && stderr(&out).contains("upstream connect error"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn warnings_and_failed_secondary_queries_are_visible() {
    // The request query (one query per reporter, grouped by response flags) succeeds, one part with a warning;
    // every other query fails: the graph comes with warnings.
    let warned = std::sync::atomic::AtomicBool::new(false);
    let url = fake_server(20, move |request| {
        let edge_requests = request.contains("istio_requests_total") && request.contains("response_flags");
        Some(if edge_requests && !warned.swap(true, std::sync::atomic::Ordering::SeqCst) {
            http(
                "200 OK",
                r#"{"status":"success","warnings":["partial response: store 2 of 3 unavailable"],"data":{"resultType":"vector","result":[]}}"#,
            )
        } else if edge_requests {
            http("200 OK", r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#)
        } else {
            http("503 Service Unavailable", "overloaded")
        })
    });
    let out = graph_with(&url, &["-o", "json", "--latency"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("requests query: partial response: store 2 of 3 unavailable"), "{err}");
    assert!(err.contains("latency query failed, that part of the graph is missing"), "{err}");
    assert!(err.contains("no Istio traffic in the 10m window"), "{err}");
}

#[test]
fn credentials_headers_and_path_prefix_reach_the_server() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let record = seen.clone();
    let url = fake_server(6, move |request| {
        record.lock().unwrap().push(request.to_owned());
        Some(http("200 OK", EMPTY))
    });
    let token = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token.path(), "s3cret\n").unwrap();
    let out = graph_with(
        &format!("{url}/prometheus/"),
        &["--prometheus-token-file", token.path().to_str().unwrap(), "--prometheus-header", "X-Scope-OrgID: team-a"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let requests = seen.lock().unwrap();
    let first = requests.first().expect("a request arrived");
    assert!(
        first.starts_with("GET /prometheus/api/v1/query?query=sum+by")
            || first.starts_with("POST /prometheus/api/v1/query"),
        "{first}"
    );
    let lower = first.to_ascii_lowercase();
    assert!(lower.contains("authorization: bearer s3cret\r\n"), "{first}");
    assert!(lower.contains("x-scope-orgid: team-a\r\n"), "{first}");
}

#[test]
fn an_oversized_answer_is_refused_not_buffered() {
    // A server announcing 2 GiB, and one streaming without announcing: neither is held whole.
    let announced = fake_server(1, |_| {
        Some("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n{".to_owned())
    });
    let out = graph_with(&announced, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("with more than 536870912 bytes"), "{}", stderr(&out));

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else { return };
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        let chunk = vec![b' '; 1 << 20];
        let framed = [format!("{:x}\r\n", chunk.len()).into_bytes(), chunk, b"\r\n".to_vec()].concat();
        // At most 1 GiB, and the client stops reading at half of that.
        for _ in 0..1024 {
            if stream.write_all(&framed).is_err() {
                break;
            }
        }
    });
    let started = std::time::Instant::now();
    let out = meshlens(&["graph", "--prometheus", &url, "-n", "bookinfo", "--prometheus-timeout", "60s"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("with more than 536870912 bytes"), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(30));
}

/// A Prometheus that reads every query and never answers: whether each query's connection was closed.
struct Hung {
    url: String,
    closed: std::sync::Arc<std::sync::Mutex<Vec<bool>>>,
}

impl Hung {
    fn start() -> Hung {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let closed = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = closed.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let seen = seen.clone();
                let n = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(false);
                    seen.len() - 1
                };
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while matches!(stream.read(&mut buf), Ok(read) if read > 0) {}
                    seen.lock().unwrap()[n] = true;
                });
            }
        });
        Hung { url, closed }
    }

    fn opened(&self) -> usize {
        self.closed.lock().unwrap().len()
    }

    fn open(&self) -> usize {
        self.closed.lock().unwrap().iter().filter(|closed| !**closed).count()
    }

    /// Waits up to `limit` for `check`; whether it held.
    fn within(&self, limit: Duration, check: impl Fn(&Hung) -> bool) -> bool {
        let deadline = std::time::Instant::now() + limit;
        while !check(self) {
            if std::time::Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    }
}

#[test]
fn a_graph_whose_client_left_stops_its_queries_and_a_hung_prometheus_holds_no_worker() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snapshot");
    common::simulate("bookinfo-canary", &snapshot, &[]);
    let hung = Hung::start();
    let (server, port) =
        common::serve_snapshot(&snapshot, work.path(), &["--prometheus", &hung.url, "--prometheus-timeout", "60s"]);
    // A client asks for a graph and leaves while its queries wait.
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    client.write_all(b"GET /api/graph?namespaces=bookinfo HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    assert!(hung.within(Duration::from_secs(5), |h| h.open() > 0), "the graph's queries reached Prometheus");
    std::thread::sleep(Duration::from_millis(300));
    let one_graph = hung.opened();
    drop(client);
    assert!(
        hung.within(Duration::from_secs(3), |h| h.open() == 0),
        "the queries were not cancelled: {} open",
        hung.open()
    );

    // Graphs waiting on the hung Prometheus hold no thread: more of them than the server has cores all reach it,
    // and the pages that need no query answer at once.
    let before = hung.opened();
    let waiting: Vec<std::net::TcpStream> = (1..=4)
        .map(|minutes| {
            let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            let request =
                format!("GET /api/graph?namespaces=bookinfo&duration={minutes}m HTTP/1.1\r\nHost: localhost\r\n\r\n");
            client.write_all(request.as_bytes()).unwrap();
            client
        })
        .collect();
    // Before, the two threads of this machine's cores waited on two graphs' queries, and the others queued.
    assert!(
        hung.within(Duration::from_secs(5), |h| h.opened() >= before + 4 * one_graph),
        "four graphs' queries reach Prometheus at once: {} connections, {one_graph} for one graph",
        hung.opened() - before
    );
    let started = std::time::Instant::now();
    assert!(common::process::http_ok(&format!("http://127.0.0.1:{port}/api/workloads")));
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    drop(waiting);
    assert!(hung.within(Duration::from_secs(3), |h| h.open() == 0), "{} queries still open", hung.open());
    server.stop();
}
