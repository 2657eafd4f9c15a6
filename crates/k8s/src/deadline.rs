//! A deadline on every request the Kubernetes client sends, retries included. The client kube-rs builds has a
//! connect timeout but no read deadline (a server that accepts and never answers holds a command for ever), and
//! its retry layer sleeps as long as a `Retry-After` asks (an hour, if a proxy says so). This layer replaces that
//! retry layer: a request, its retries of 429, 503 and 504 and, for anything but a watch, its whole answer must be
//! done by one deadline. A watch's head has the same deadline; its stream is left to kube-runtime's watcher, which
//! gives it an idle timeout of its own (the server's watch timeout and a margin), so healthy idle watches live on.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response, StatusCode};
use http_body::{Body as HttpBody, Frame, SizeHint};
use kube::client::Body;
use tokio::time::{Instant, Sleep};
use tower::{BoxError, Layer, Service, ServiceExt};

/// The first wait before retrying an answer that asks for a retry without saying when; each retry doubles it.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// The longest wait between retries when the server does not say.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Why a request to the Kubernetes API failed or did not end in time; each names the server and the request.
#[derive(Debug, thiserror::Error)]
pub enum DeadlineError {
    #[error("the Kubernetes API at {server} gave no answer to {request} within {limit:?} (--request-timeout)")]
    NoAnswer { server: Arc<str>, request: String, limit: Duration },
    #[error(
        "the Kubernetes API at {server} answered {status} to {request} and asked to retry {retry}, past the {limit:?} \
         the request may take (--request-timeout)"
    )]
    Unavailable { server: Arc<str>, request: String, status: StatusCode, retry: String, limit: Duration },
    #[error(
        "the Kubernetes API at {server} did not finish its answer to {request} within {limit:?} (--request-timeout)"
    )]
    Unfinished { server: Arc<str>, request: String, limit: Duration },
    #[error("cannot reach the Kubernetes API at {server} for {request}: {reason}")]
    Unreachable { server: Arc<str>, request: String, reason: String },
}

/// An error and its causes, as one line (the client's errors put the useful part, `Connection refused`, last).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// Puts [`Deadline`] around a client's service.
#[derive(Clone)]
pub struct DeadlineLayer {
    /// `scheme://host:port` of the API server, for messages (never credentials).
    server: Arc<str>,
    limit: Duration,
}

impl DeadlineLayer {
    pub fn new(cluster_url: &http::Uri, limit: Duration) -> DeadlineLayer {
        let scheme = cluster_url.scheme_str().unwrap_or("https");
        let host = cluster_url.authority().map_or("", |a| a.as_str().rsplit('@').next().unwrap_or_default());
        DeadlineLayer { server: format!("{scheme}://{host}").into(), limit }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Deadline<S> {
        Deadline { inner, layer: self.clone() }
    }
}

/// A service whose requests end by their deadline (see the module's comment).
#[derive(Clone)]
pub struct Deadline<S> {
    inner: S,
    layer: DeadlineLayer,
}

impl<S, B> Service<Request<Body>> for Deadline<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: HttpBody + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Deadlined<B>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let layer = self.layer.clone();
        // The service polled ready is the one called first; retries call a clone once it is ready.
        let ready = self.inner.clone();
        let first = std::mem::replace(&mut self.inner, ready);
        Box::pin(attempts(first, request, layer))
    }
}

/// Sends `request` until it is answered with something other than a retryable status, or its deadline forbids
/// another try.
async fn attempts<S, B>(
    mut service: S,
    request: Request<Body>,
    layer: DeadlineLayer,
) -> Result<Response<Deadlined<B>>, BoxError>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone,
    S::Error: Into<BoxError>,
{
    let deadline = Instant::now() + layer.limit;
    let watch = is_watch(request.uri());
    let what = format!("{} {}", request.method(), request.uri().path_and_query().map_or("/", |p| p.as_str()));
    let no_answer =
        || DeadlineError::NoAnswer { server: layer.server.clone(), request: what.clone(), limit: layer.limit };
    let mut backoff = FIRST_BACKOFF;
    let mut request = request;
    loop {
        let ready = tokio::time::timeout_at(deadline, service.ready()).await.map_err(|_| no_answer())?;
        ready.map_err(Into::into)?;
        let again = copy(&request);
        let answer = tokio::time::timeout_at(deadline, service.call(request)).await.map_err(|_| no_answer())?;
        let response = answer.map_err(|e| {
            let reason = chain(&*e.into());
            DeadlineError::Unreachable { server: layer.server.clone(), request: what.clone(), reason }
        })?;
        let status = response.status();
        if !matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
        ) {
            let unfinished =
                || DeadlineError::Unfinished { server: layer.server.clone(), request: what, limit: layer.limit };
            let limit = (!watch).then(|| (deadline, unfinished()));
            return Ok(response.map(|body| Deadlined::new(body, limit)));
        }
        let asked = retry_after(&response);
        let wait = asked.unwrap_or(backoff);
        backoff = (backoff * 2).min(MAX_BACKOFF);
        let Some(again) = again.filter(|_| Instant::now() + wait < deadline) else {
            let retry = asked.map_or_else(|| "later".to_owned(), |s| format!("after {} s", s.as_secs()));
            return Err(DeadlineError::Unavailable {
                server: layer.server,
                request: what,
                status,
                retry,
                limit: layer.limit,
            }
            .into());
        };
        tracing::debug!(%status, ?wait, request = %what, "the Kubernetes API asks for a retry");
        tokio::time::sleep(wait).await;
        request = again;
    }
}

/// A copy of a request to send again (none when its body is a stream, which kube-rs uses for no request it makes
/// here).
fn copy(request: &Request<Body>) -> Option<Request<Body>> {
    let body = request.body().try_clone()?;
    let mut copy = Request::new(body);
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    *copy.extensions_mut() = request.extensions().clone();
    Some(copy)
}

/// The seconds a `Retry-After` header asks for (its date form is read as no answer).
fn retry_after<B>(response: &Response<B>) -> Option<Duration> {
    let value = response.headers().get(http::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Whether a request is a watch, whose answer streams for as long as the server's watch timeout.
fn is_watch(uri: &http::Uri) -> bool {
    uri.query().is_some_and(|q| q.split('&').any(|pair| pair == "watch=true" || pair == "watch=1"))
}

/// An answer's body that fails once its deadline has passed (none for a watch), with the error to say so.
pub struct Deadlined<B> {
    inner: B,
    deadline: Option<(Pin<Box<Sleep>>, DeadlineError)>,
}

impl<B> Deadlined<B> {
    fn new(inner: B, deadline: Option<(Instant, DeadlineError)>) -> Deadlined<B> {
        let deadline = deadline.map(|(at, error)| (Box::pin(tokio::time::sleep_until(at)), error));
        Deadlined { inner, deadline }
    }
}

impl<B> HttpBody for Deadlined<B>
where
    B: HttpBody + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, BoxError>>> {
        let this = self.get_mut();
        if let Some((sleep, _)) = this.deadline.as_mut()
            && sleep.as_mut().poll(cx).is_ready()
            && let Some((_, error)) = this.deadline.take()
        {
            return Poll::Ready(Some(Err(error.into())));
        }
        Pin::new(&mut this.inner).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_watch_requests_stream() {
        assert!(is_watch(&"/api/v1/pods?watch=true&resourceVersion=1".parse().unwrap()));
        assert!(is_watch(&"/api/v1/pods?resourceVersion=1&watch=1".parse().unwrap()));
        assert!(!is_watch(&"/api/v1/pods?limit=500".parse().unwrap()));
        assert!(!is_watch(&"/api/v1/pods?nowatch=true".parse().unwrap()));
    }

    #[test]
    fn the_server_is_named_without_credentials() {
        let layer = DeadlineLayer::new(&"https://user:secret@10.0.0.1:6443/".parse().unwrap(), Duration::from_secs(1));
        assert_eq!(&*layer.server, "https://10.0.0.1:6443");
    }
}
