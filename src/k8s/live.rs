//! Reads the kinds meshlens uses from a live cluster through the Kubernetes API, read-only: discovery decides which
//! optional kinds the cluster serves (Argo Rollouts, Flagger, Istio networking in whichever version it prefers) and
//! a cluster without them is read with a note; every LIST is paged; `managedFields` are dropped as they arrive.
//! Given namespaces, only they are listed and watched (namespaced paths, so a Role in each is enough) and
//! cluster-scoped kinds are not read.

use std::path::PathBuf;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt;
use kube::api::{Api, DynamicObject, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{ApiCapabilities, ApiGroup, ApiResource, Discovery, Scope};
use kube::runtime::reflector::{reflector, store::Writer};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Client, Config};
use serde_json::Value;
use tokio::sync::Notify;

use super::Kind;

/// Objects per LIST page: large enough for few round trips, small enough to keep each answer modest.
const PAGE: u32 = 500;

/// Which cluster to read: the kubeconfig (and context) named, else the usual inference (`KUBECONFIG`,
/// `~/.kube/config`, then the in-cluster service account).
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("no usable Kubernetes configuration: {0}")]
    Config(String),
    #[error("discovering the cluster's APIs failed: {0}")]
    Discovery(kube::Error),
    #[error("listing {what} failed: {source}")]
    List { what: String, source: kube::Error },
    #[error("listing {what} failed: {message}")]
    Watch { what: String, message: String },
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
    Client::try_from(config).map_err(|e| LiveError::Config(e.to_string()))
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

/// Keeps every served kind current with kube-rs reflectors (LIST, then WATCH from its resourceVersion, relisting
/// when the server says the version is gone) and calls `changed` with the whole set once every kind is listed,
/// then after each burst of changes. A collection that cannot be listed at the start is an error (a forbidden
/// kind should not leave the caller waiting); later failures retry with backoff and say so in the log. Runs until
/// the process ends.
pub async fn watch(
    client: Client,
    namespaces: &[String],
    changed: impl Fn(ClusterRead) + Send + 'static,
) -> Result<(), LiveError> {
    let (collections, notes) = collections(&client, namespaces).await?;
    let notify = Arc::new(Notify::new());
    let started = Arc::new(AtomicBool::new(false));
    let (failed, mut failures) = tokio::sync::mpsc::unbounded_channel();
    let mut stores = Vec::new();
    for Collection { api, resource, what } in collections {
        let writer: Writer<DynamicObject> = Writer::new(resource.clone());
        stores.push((writer.as_reader(), resource));
        let events = watcher(api, watcher::Config::default().page_size(PAGE))
            .default_backoff()
            .modify(|o| o.metadata.managed_fields = None);
        let (notify, started, failed) = (notify.clone(), started.clone(), failed.clone());
        tokio::spawn(reflector(writer, events).for_each(move |event| {
            if let Err(e) = event {
                if !started.load(Ordering::Relaxed) {
                    let _ = failed.send(LiveError::Watch { what: what.clone(), message: e.to_string() });
                }
                tracing::warn!("watching {what}: {e}");
            }
            notify.notify_one();
            std::future::ready(())
        }));
    }
    let listed = futures::future::join_all(stores.iter().map(|(store, _)| store.wait_until_ready()));
    tokio::select! {
        _ = listed => started.store(true, Ordering::Relaxed),
        Some(error) = failures.recv() => return Err(error),
    }
    loop {
        notify.notified().await;
        // Let a burst of events (a rollout step touches several objects) settle into one rebuild.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let objects = stores
            .iter()
            .flat_map(|(store, resource)| store.state().into_iter().map(|o| as_manifest((*o).clone(), resource)))
            .collect();
        changed(ClusterRead { objects, notes: notes.clone() });
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
