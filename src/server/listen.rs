//! How `serve` accepts connections, over plain HTTP and TLS alike: at most so many at once and so many per client
//! ([`super::admission`]: a connection past a cap is closed at once, and a stalled one makes room when the server
//! is full), a deadline for the first byte of the first request, a maximum age after which a connection is closed,
//! hyper's header read timeout for half-sent requests, a bound on a request head's size, HTTP/2 keep-alive pings,
//! and a TLS handshake timeout. `axum::serve` sets no timer at all, so a socket that never sends a byte would be
//! held forever.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum_server::accept::Accept;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use hyper_util::rt::TokioTimer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use super::admission::{Admission, Ticket};
use super::routes::router;
use super::state::AppState;

/// What a server allows each client. The defaults suit a tool serving a team: generous for browsers and
/// Prometheus, short enough that idle or stuck sockets cannot pile up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections one client (an address, an IPv6 /64) may hold at once.
    pub max_connections_per_client: usize,
    /// Bytes a request head may take (HTTP/1: the read buffer; HTTP/2: the header list).
    pub max_header_bytes: usize,
    /// From accepting a connection to the first byte of its first request.
    pub first_request_timeout: Duration,
    /// From the first byte of a request's head to its end (HTTP/1).
    pub header_read_timeout: Duration,
    /// After this, a connection is closed (clients reconnect).
    pub max_connection_age: Duration,
    /// For the TLS handshake, when serving HTTPS.
    pub tls_handshake_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: 512,
            max_connections_per_client: 64,
            max_header_bytes: 32 * 1024,
            first_request_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            max_connection_age: Duration::from_secs(600),
            tls_handshake_timeout: Duration::from_secs(10),
        }
    }
}

/// Serves `state` on `listener` (HTTPS with `tls`) under `limits` until the process ends.
pub async fn serve(
    state: AppState,
    listener: std::net::TcpListener,
    tls: Option<RustlsConfig>,
    limits: Limits,
) -> io::Result<()> {
    let admission = Admission::new(limits.max_connections, limits.max_connections_per_client);
    let guard = Guard { admission, limits };
    let app = router(state).into_make_service();
    match tls {
        None => {
            let mut server = axum_server::from_tcp(listener)?.acceptor(guard);
            configure(server.http_builder(), limits);
            server.serve(app).await
        }
        Some(config) => {
            let acceptor = RustlsAcceptor::new(config).handshake_timeout(limits.tls_handshake_timeout).acceptor(guard);
            let mut server = axum_server::from_tcp(listener)?.acceptor(acceptor);
            configure(server.http_builder(), limits);
            server.serve(app).await
        }
    }
}

/// hyper's timers and limits. A head past `max_header_bytes` is answered by hyper itself with an empty body: 431
/// (HTTP/1 and HTTP/2), or 414 for a request line past its own 64 KB; the connection is then closed.
fn configure(builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>, limits: Limits) {
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10))
        .max_concurrent_streams(64);
}

/// Admits a connection as [`Admission`] allows, and bounds its life.
#[derive(Clone)]
struct Guard {
    admission: Arc<Admission>,
    limits: Limits,
}

impl<S: Send + 'static> Accept<TcpStream, S> for Guard {
    type Stream = Bounded;
    type Service = Admitted<S>;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Bounded, Admitted<S>)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let admitted = stream.peer_addr().map(|peer| (peer, self.admission.admit(peer.ip())));
        let limits = self.limits;
        Box::pin(async move {
            // Refused, the socket is dropped, which closes it: the client sees a reset, not a hang.
            let (peer, ticket) = admitted?;
            let ticket = Arc::new(ticket.map_err(io::Error::other)?);
            let _ = stream.set_nodelay(true);
            Ok((Bounded::new(stream, ticket.clone(), limits), Admitted { inner: service, ticket, peer }))
        })
    }
}

/// A connection's service: notes each complete request against the connection's [`Ticket`], and gives handlers the
/// client's address (`ConnectInfo`).
#[derive(Clone)]
pub struct Admitted<S> {
    inner: S,
    ticket: Arc<Ticket>,
    peer: SocketAddr,
}

impl<S, B> tower::Service<axum::http::Request<B>> for Admitted<S>
where
    S: tower::Service<axum::http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: axum::http::Request<B>) -> S::Future {
        self.ticket.requested();
        request.extensions_mut().insert(ConnectInfo(self.peer));
        self.inner.call(request)
    }
}

/// A connection that holds its place while it lives, fails reads once its first request is overdue, it is older
/// than its maximum age or it was closed to make room (so the HTTP server closes it).
pub struct Bounded {
    stream: TcpStream,
    ticket: Arc<Ticket>,
    /// Until the first byte arrives.
    first_byte: Option<Pin<Box<Sleep>>>,
    expires: Pin<Box<Sleep>>,
}

impl Bounded {
    fn new(stream: TcpStream, ticket: Arc<Ticket>, limits: Limits) -> Bounded {
        Bounded {
            stream,
            ticket,
            first_byte: Some(Box::pin(tokio::time::sleep(limits.first_request_timeout))),
            expires: Box::pin(tokio::time::sleep(limits.max_connection_age)),
        }
    }
}

impl AsyncRead for Bounded {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.ticket.poll_evicted(cx) {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "closed to make room for other clients")));
        }
        if self.expires.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "connection older than its maximum age")));
        }
        if let Some(first) = self.first_byte.as_mut()
            && first.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "no request in time")));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.stream).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            self.first_byte = None;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Bounded {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
