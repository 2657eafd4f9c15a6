//! How `serve` accepts connections, over plain HTTP and TLS alike: at most so many at once (a semaphore in the
//! acceptor: a connection past the cap is closed at once), a deadline for the first byte of the first request, a
//! maximum age after which a connection is closed, hyper's header read timeout for half-sent requests, HTTP/2
//! keep-alive pings, and a TLS handshake timeout. `axum::serve` sets no timer at all, so a socket that never sends a
//! byte would be held forever.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum_server::accept::Accept;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use hyper_util::rt::TokioTimer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;

use super::routes::router;
use super::state::AppState;

/// What a server allows each client. The defaults suit a tool serving a team: generous for browsers and
/// Prometheus, short enough that idle or stuck sockets cannot pile up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
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
    let guard = Guard { permits: Arc::new(Semaphore::new(limits.max_connections)), limits };
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

fn configure(builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>, limits: Limits) {
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10))
        .max_concurrent_streams(64);
}

/// Admits a connection when a permit is free, and bounds its life.
#[derive(Clone)]
struct Guard {
    permits: Arc<Semaphore>,
    limits: Limits,
}

impl<S: Send + 'static> Accept<TcpStream, S> for Guard {
    type Stream = Bounded;
    type Service = S;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Bounded, S)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let permit = self.permits.clone().try_acquire_owned();
        let limits = self.limits;
        Box::pin(async move {
            // Past the cap the socket is dropped, which closes it: the client sees a reset, not a hang.
            let permit = permit.map_err(|_| io::Error::other("connection cap reached"))?;
            let _ = stream.set_nodelay(true);
            Ok((Bounded::new(stream, permit, limits), service))
        })
    }
}

/// A connection that holds its permit while it lives, fails reads once its first request is overdue or it is
/// older than its maximum age (so the HTTP server closes it).
pub struct Bounded {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
    /// Until the first byte arrives.
    first_byte: Option<Pin<Box<Sleep>>>,
    expires: Pin<Box<Sleep>>,
}

impl Bounded {
    fn new(stream: TcpStream, permit: OwnedSemaphorePermit, limits: Limits) -> Bounded {
        Bounded {
            stream,
            _permit: permit,
            first_byte: Some(Box::pin(tokio::time::sleep(limits.first_request_timeout))),
            expires: Box::pin(tokio::time::sleep(limits.max_connection_age)),
        }
    }
}

impl AsyncRead for Bounded {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
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
