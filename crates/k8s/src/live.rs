//! Reads the kinds meshlens uses from a live cluster through the Kubernetes API, read-only: discovery decides which
//! optional kinds the cluster serves (Argo Rollouts, Flagger, Istio networking in whichever version it prefers) and
//! a cluster without them is read with a note; every LIST is paged; `managedFields` are dropped as they arrive.
//! Given namespaces, only they are listed and watched (namespaced paths, so a Role in each is enough) and
//! cluster-scoped kinds are not read.

use std::path::PathBuf;
use std::time::Duration;

use futures::{Stream, StreamExt};
use kube::api::{Api, DynamicObject, ListParams};
use kube::client::ClientBuilder;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{ApiCapabilities, ApiGroup, ApiResource, Discovery, Scope};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Config};
use serde_json::Value;

use super::Kind;
use super::deadline::DeadlineLayer;
use super::object::{Decoded, Object, decode};

/// Objects per LIST page: large enough for few round trips, small enough to keep each answer modest.
const PAGE: u32 = 500;

/// Requests waiting for the client's connection pool at once (kube-rs' own example uses the same bound).
const PENDING_REQUESTS: usize = 1024;

/// Which cluster to read: the kubeconfig (and context) named, else the usual inference (`KUBECONFIG`,
/// `~/.kube/config`, then the in-cluster service account), and how long a request may take.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// How long one request may take, retries included (see [`super::deadline`]).
    pub request_timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("no usable Kubernetes configuration: {0}")]
    Config(String),
    #[error("discovering the cluster's APIs failed: {}", said(.0))]
    Discovery(kube::Error),
    #[error("listing {what} failed: {}", said(.source))]
    List { what: String, source: kube::Error },
    #[error("listing {what} failed: {message}")]
    Watch { what: String, message: String, lasting: bool },
    #[error("watching the cluster ended before it was listed")]
    Ended,
}

impl LiveError {
    /// Whether trying again cannot help: no usable configuration, or the server refusing the account (401, 403)
    /// or not serving what was asked (404). A timeout, a refused connection or a 5xx may pass.
    pub fn is_lasting(&self) -> bool {
        match self {
            LiveError::Config(_) => true,
            LiveError::Discovery(e) | LiveError::List { source: e, .. } => refuses(e),
            LiveError::Watch { lasting, .. } => *lasting,
            LiveError::Ended => true,
        }
    }
}

/// What a client error says, without kube-rs' wrapper around the errors of its service stack (the deadline's
/// errors name the server and the request themselves).
fn said(error: &kube::Error) -> String {
    match error {
        kube::Error::Service(inner) => inner.to_string(),
        other => other.to_string(),
    }
}

/// What a watch's error says: the client's error as [`said`], a status the server sent as its message.
fn watch_said(error: &watcher::Error) -> String {
    match error {
        watcher::Error::WatchStartFailed(e) | watcher::Error::InitialListFailed(e) | watcher::Error::WatchFailed(e) => {
            said(e)
        }
        other => other.to_string(),
    }
}

/// Whether the API server refused the request for good (401, 403, 404).
fn refuses(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if matches!(status.code, 401 | 403 | 404))
}

/// What a read of the cluster gave: objects as the API serves them, and notes on kinds it does not serve.
pub struct ClusterRead {
    pub objects: Vec<Value>,
    pub notes: Vec<String>,
}

pub async fn connect(options: &ClusterOptions) -> Result<Client, LiveError> {
    let config = if options.kubeconfig.is_some() || options.context.is_some() {
        let kubeconfig = match &options.kubeconfig {
            Some(path) => Kubeconfig::read_from(path),
            None => Kubeconfig::read(),
        }
        .map_err(|e| LiveError::Config(e.to_string()))?;
        let pick = KubeConfigOptions { context: options.context.clone(), ..Default::default() };
        Config::from_custom_kubeconfig(kubeconfig, &pick).await.map_err(|e| LiveError::Config(e.to_string()))?
    } else {
        Config::infer().await.map_err(|e| LiveError::Config(e.to_string()))?
    };
    client(config, options.request_timeout)
}

/// A client whose every request ends by its deadline ([`super::deadline`]), in place of kube-rs' retry layer.
/// Needs a runtime: the pool of requests runs as a task of it.
fn client(mut config: Config, request_timeout: Duration) -> Result<Client, LiveError> {
    config.default_retry = false;
    config.connect_timeout = Some(request_timeout);
    let deadline = DeadlineLayer::new(&config.cluster_url, request_timeout);
    let builder = ClientBuilder::try_from(config).map_err(|e| LiveError::Config(e.to_string()))?;
    let pooled = builder.with_layer(&tower::buffer::BufferLayer::new(PENDING_REQUESTS));
    Ok(pooled.with_layer(&deadline).build())
}

/// One listable collection: a served kind, in every namespace or in one.
struct Collection {
    api: Api<DynamicObject>,
    resource: ApiResource,
    /// `rollouts (argoproj.io/v1alpha1) in namespace shop`, for messages.
    what: String,
}

/// The collections of the kinds meshlens reads that the cluster serves (in `namespaces`, or everywhere when
/// empty), and notes on the kinds it does not serve.
async fn collections(client: &Client, namespaces: &[String]) -> Result<(Vec<Collection>, Vec<String>), LiveError> {
    let mut groups: Vec<&str> = Kind::ALL.iter().map(|&k| k.group()).collect();
    groups.sort_unstable();
    groups.dedup();
    let discovery = Discovery::new(client.clone()).filter(&groups).run().await.map_err(LiveError::Discovery)?;
    let (mut collections, mut notes) = (Vec::new(), Vec::new());
    for kind in Kind::ALL.iter().copied() {
        let Some((resource, caps)) = discovery.get(kind.group()).and_then(|g| served(g, kind)) else {
            notes.push(format!(
                "the cluster serves no {kind} ({}, {}): none read",
                kind.resource(),
                kind.api_version()
            ));
            continue;
        };
        let what = format!("{} ({})", resource.plural, resource.api_version);
        if namespaces.is_empty() {
            let api = Api::all_with(client.clone(), &resource);
            collections.push(Collection { api, resource, what });
        } else if caps.scope == Scope::Namespaced {
            for namespace in namespaces {
                let api = Api::namespaced_with(client.clone(), namespace, &resource);
                let what = format!("{what} in namespace {namespace}");
                collections.push(Collection { api, resource: resource.clone(), what });
            }
        }
    }
    Ok((collections, notes))
}

/// The version of `kind` the cluster serves that meshlens reads: the group's preferred version when it has the kind,
/// else the first of the kind's own versions served (Gateway API clusters prefer v1, where TCPRoute and TLSRoute
/// are not, and serve them as v1alpha2).
fn served(group: &ApiGroup, kind: Kind) -> Option<(ApiResource, ApiCapabilities)> {
    let of_kind = |version: &str| {
        let found = group.versioned_resources(version).into_iter().find(|(r, _)| r.kind == kind.as_str());
        found.filter(|(r, _)| Kind::recognise(&r.api_version, &r.kind) == Some(kind))
    };
    of_kind(group.preferred_version_or_latest()).or_else(|| {
        let versions = kind.api_versions().iter().filter_map(|v| v.rsplit_once('/').map_or(Some(*v), |(_, v)| Some(v)));
        versions.filter(|v| group.versions().any(|served| served == *v)).find_map(of_kind)
    })
}

/// Lists every object of the kinds meshlens reads (in `namespaces`, or everywhere when empty).
pub async fn read(client: &Client, namespaces: &[String]) -> Result<ClusterRead, LiveError> {
    let (collections, notes) = collections(client, namespaces).await?;
    let mut read = ClusterRead { objects: Vec::new(), notes };
    for collection in &collections {
        list_all(collection, &mut read.objects).await?;
    }
    Ok(read)
}

/// One collection's watch event, in the order its watch delivers them.
#[derive(Debug)]
pub enum Change {
    /// The collection is listed afresh (at start, or after the server forgot the watch's version): whatever it
    /// held that is not listed again by its `Listed` is gone.
    Relisting(usize),
    /// An object listed, added or modified, trimmed to what meshlens reads as it arrives.
    Applied(usize, Object),
    /// An object listed, added or modified that could not be read: why.
    Unreadable(usize, String),
    /// An object deleted: its namespace and name.
    Deleted(usize, String, String),
    /// The listing that `Relisting` began is complete.
    Listed(usize),
    /// Listing or watching failed (kube-rs retries with backoff): what, why, and whether retrying cannot help
    /// (the account is refused).
    Failed(usize, String, bool),
}

/// What [`watch`] follows: each collection's kind and namespace (none: every namespace), in the numbering its
/// [`Change`]s use, and notes on kinds the cluster does not serve.
pub struct Watched {
    pub collections: Vec<(Kind, Option<String>)>,
    pub notes: Vec<String>,
}

/// Starts a kube-rs watcher on every served kind (LIST, then WATCH from its resourceVersion, relisting when the
/// server says the version is gone), each sending its events to `changes` from a task of the current runtime;
/// objects are trimmed to what meshlens reads as events arrive. Returns once the watches are started; they run
/// until the runtime ends.
pub async fn watch(
    client: &Client,
    namespaces: &[String],
    changes: tokio::sync::mpsc::UnboundedSender<Change>,
) -> Result<Watched, LiveError> {
    let (collections, notes) = collections(client, namespaces).await?;
    let mut watched = Watched { collections: Vec::new(), notes };
    for Collection { api, resource, what } in collections {
        let Some(kind) = Kind::recognise(&resource.api_version, &resource.kind) else { continue };
        let c = watched.collections.len();
        watched.collections.push((kind, api.namespace().map(str::to_owned)));
        let changes = changes.clone();
        let events = relisting_watcher(api).default_backoff();
        tokio::spawn(events.for_each(move |event| {
            let change = match event {
                Ok(watcher::Event::Init) => Change::Relisting(c),
                Ok(watcher::Event::InitApply(o) | watcher::Event::Apply(o)) => {
                    match decode(as_manifest(o, &resource)) {
                        Ok(Decoded::Object(object)) => Change::Applied(c, object),
                        Ok(Decoded::List(_) | Decoded::Unknown(_)) => return std::future::ready(()),
                        Err(e) => Change::Unreadable(c, e.to_string()),
                    }
                }
                Ok(watcher::Event::Delete(o)) => {
                    Change::Deleted(c, o.metadata.namespace.unwrap_or_default(), o.metadata.name.unwrap_or_default())
                }
                Ok(watcher::Event::InitDone) => Change::Listed(c),
                Err(e) => {
                    tracing::warn!("watching {what}: {e}");
                    Change::Failed(c, format!("listing {what} failed: {}", watch_said(&e)), watch_refused(&e))
                }
            };
            let _ = changes.send(change);
            std::future::ready(())
        }));
    }
    Ok(watched)
}

/// kube-rs' watcher, started afresh (a LIST, then a WATCH from it) whenever a server says the version it
/// resumes from is too old in an HTTP 410 answer: the watcher relists on a 410 error event, but retries a 410
/// answer to the WATCH request itself (as proxies in front of API servers send) for ever with the same version.
fn relisting_watcher(api: Api<DynamicObject>) -> impl Stream<Item = watcher::Result<watcher::Event<DynamicObject>>> {
    let start = move || watcher(api.clone(), watcher::Config::default().page_size(PAGE)).boxed();
    futures::stream::unfold(start(), move |mut events| {
        let start = start.clone();
        async move {
            let event = events.next().await?;
            if let Err(e) = &event
                && too_old(e)
            {
                tracing::info!("the API server forgot the watch's version ({e}): listing again");
                events = start();
            }
            Some((event, events))
        }
    })
}

/// Whether a watch failed because the version it resumes from is gone (HTTP 410, or a Status saying Expired or
/// Gone), apart from the error event the watcher relists on itself.
fn too_old(error: &watcher::Error) -> bool {
    let status = match error {
        watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => s,
        _ => return false,
    };
    status.code == 410 || status.reason == "Expired" || status.reason == "Gone"
}

/// Whether a watch's failure will not pass by retrying (see [`LiveError::is_lasting`]).
fn watch_refused(error: &watcher::Error) -> bool {
    match error {
        watcher::Error::WatchStartFailed(e) | watcher::Error::InitialListFailed(e) | watcher::Error::WatchFailed(e) => {
            refuses(e)
        }
        watcher::Error::WatchError(status) => matches!(status.code, 401 | 403 | 404),
        watcher::Error::NoResourceVersion => false,
    }
}

/// The longest wait between two tries of [`watch_when_reachable`].
const MAX_RECONNECT_WAIT: Duration = Duration::from_secs(30);

/// [`watch`], tried again (after 1 s, then twice as long each time up to 30 s) while its failure may pass, each
/// failure told to `retrying` first, which says whether to go on.
pub async fn watch_when_reachable(
    options: &ClusterOptions,
    namespaces: &[String],
    changes: tokio::sync::mpsc::UnboundedSender<Change>,
    mut retrying: impl FnMut(&LiveError) -> bool,
) -> Result<Watched, LiveError> {
    let mut wait = Duration::from_secs(1);
    loop {
        let attempt = async { watch(&connect(options).await?, namespaces, changes.clone()).await };
        match attempt.await {
            Err(e) if !e.is_lasting() && retrying(&e) => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(MAX_RECONNECT_WAIT);
            }
            other => return other,
        }
    }
}

/// Every object of one collection, page by page.
async fn list_all(collection: &Collection, out: &mut Vec<Value>) -> Result<(), LiveError> {
    let mut params = ListParams::default().limit(PAGE);
    loop {
        let page = collection
            .api
            .list(&params)
            .await
            .map_err(|source| LiveError::List { what: collection.what.clone(), source })?;
        for item in page.items {
            out.push(as_manifest(item, &collection.resource));
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(()),
        }
    }
}

/// An item of a LIST as a manifest: list items carry no apiVersion and kind, and nobody needs `managedFields`
/// (dropped before they are converted at all).
fn as_manifest(mut item: DynamicObject, resource: &ApiResource) -> Value {
    item.metadata.managed_fields = None;
    let mut value = serde_json::to_value(item).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(resource.api_version.clone()));
        map.insert("kind".into(), Value::String(resource.kind.clone()));
    }
    value
}
