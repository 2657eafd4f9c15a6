//! `serve` over HTTPS with a bearer token, as it would run in a cluster: the certificate is served, plain HTTP is
//! not, and the token is required of everything but the probe.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

mod common;

use common::process::{block_on, free_port, spawn_until};
use common::simulate;

fn client() -> reqwest::Client {
    let pem = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls/cert.pem")).unwrap();
    let ca = reqwest::Certificate::from_pem(&pem).unwrap();
    reqwest::Client::builder().add_root_certificate(ca).build().unwrap()
}

fn status(request: reqwest::RequestBuilder) -> Option<u16> {
    block_on(async { request.send().await.ok().map(|r| r.status().as_u16()) })
}

#[test]
fn https_with_a_token() {
    let work = tempfile::tempdir().unwrap();
    let snapshot = work.path().join("snapshot");
    simulate("bookinfo-canary", &snapshot, &[]);
    let token_file = work.path().join("token");
    std::fs::write(&token_file, "0123456789abcdef-not-a-real-secret\n").unwrap();
    let tls = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tls");
    let port = free_port();
    let args: Vec<String> = [
        "serve",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--addr",
        &format!("127.0.0.1:{port}"),
        "--auth-token-file",
        token_file.to_str().unwrap(),
        "--tls-cert-file",
        &format!("{tls}/cert.pem"),
        "--tls-key-file",
        &format!("{tls}/key.pem"),
        "--tls-handshake-timeout",
        "2s",
    ]
    .map(String::from)
    .to_vec();
    let url = format!("https://127.0.0.1:{port}");
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_meshlens"));
    let healthz = format!("{url}/healthz");
    let server = spawn_until(program, &args, &work.path().join("serve.log"), url.clone(), || {
        status(client().get(&healthz)) == Some(200)
    });
    let api = format!("{url}/api/workloads");
    assert_eq!(status(client().get(&api)), Some(401));
    assert_eq!(status(client().get(&api).bearer_auth("0123456789abcdef-not-a-real-secret")), Some(200));
    let plain = format!("http://127.0.0.1:{port}/healthz");
    assert!(status(reqwest::Client::new().get(&plain)) != Some(200), "no plain HTTP on the TLS port");
    // Over TLS the session cookie is Secure, and holds no token.
    let cookie = block_on(async {
        let form = [("token", "0123456789abcdef-not-a-real-secret")];
        let client = reqwest::Client::builder()
            .add_root_certificate(
                reqwest::Certificate::from_pem(&std::fs::read(format!("{tls}/cert.pem")).unwrap()).unwrap(),
            )
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let answer = client.post(format!("{url}/login")).form(&form).send().await.unwrap();
        answer.headers()["set-cookie"].to_str().unwrap().to_owned()
    });
    assert!(cookie.contains("; Secure") && !cookie.contains("not-a-real-secret"), "{cookie}");
    // A socket that starts no handshake is closed after the handshake timeout.
    let mut idle = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    idle.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let started = std::time::Instant::now();
    let closed = std::io::Read::read(&mut idle, &mut [0u8; 16]);
    assert!(matches!(closed, Ok(0) | Err(_)) && started.elapsed() < std::time::Duration::from_secs(5), "{closed:?}");
    let log = std::fs::read_to_string(work.path().join("serve.log")).unwrap();
    assert!(log.contains(&format!("https://127.0.0.1:{port}/")), "{log}");
    server.stop();
    // A token too short to be a secret is refused at start.
    std::fs::write(&token_file, "short").unwrap();
    let out = common::meshlens(&[
        "serve",
        "--snapshot",
        snapshot.to_str().unwrap(),
        "--auth-token-file",
        token_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", common::stderr(&out));
}
