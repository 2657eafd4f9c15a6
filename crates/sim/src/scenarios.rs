//! The simulator's worlds. Each scenario builds objects and traffic into a [`Cluster`].

pub mod ambient;
pub mod argo;
pub mod bluegreen;
pub mod bookinfo;
pub mod flagger;
pub mod gatewayapi;
pub mod scale;

use super::cluster::{Cluster, Template};
use super::traffic::{Traffic, Window};

/// Seconds of telemetry history scenarios simulate before the snapshot moment.
pub const HISTORY_S: i64 = 30 * 60;
/// Seconds between scrapes.
pub const SCRAPE_INTERVAL_S: i64 = 30;

/// How a scenario's application namespace is in the mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mesh {
    /// Injected sidecars.
    Sidecars,
    /// Ambient mode: ztunnel on every node, waypoints where a scenario deploys them.
    Ambient,
}

/// A scenario's result: the cluster, the traffic in it, and when samples are taken.
pub struct Built {
    pub cluster: Cluster,
    pub traffic: Traffic,
    pub window: Window,
}

/// The default sampling window: `HISTORY_S` before the snapshot, every `SCRAPE_INTERVAL_S`.
pub fn default_window(c: &Cluster) -> Window {
    let now = c.now.as_second();
    Window { start: now - HISTORY_S, end: now, step: SCRAPE_INTERVAL_S, buckets: super::traffic::BUCKETS }
}

/// The Istio ingress gateway in `istio-system`; returns its pods.
pub fn gateway(c: &mut Cluster) -> Vec<usize> {
    c.namespace("istio-system", false);
    let mut template = Template::new("istio-ingressgateway", None, "docker.io/istio/proxyv2:1.25.2", 8080);
    template.labels.insert("istio".into(), "ingressgateway".into());
    template.service_account = "istio-ingressgateway-service-account".into();
    c.deployment("istio-system", "istio-ingressgateway", &template, 1)
}
