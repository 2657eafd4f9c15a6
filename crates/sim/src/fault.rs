//! The misconfigurations and accidents the simulator can plant, for the doctor to find; the routing model
//! ([`meshlens_engine::routing_model`]) turns the planted objects into the telemetry they cause.

use super::Scenario;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Fault {
    /// bookinfo: the reviews VirtualService is bound to the ingress gateway only: in-mesh callers split by ready pods.
    MeshUnbound,
    /// bookinfo: the DestinationRule's canary subset still selects an old hash: the canary's share fails with 503 UH.
    StaleSubset,
    /// bookinfo: the DestinationRule has no canary subset: the canary's share fails with 503 NR.
    MissingSubset,
    /// bookinfo: the canary pods are not ready: the canary's share fails with 503 UH.
    CanaryNotReady,
    /// Someone edited the reviews route (VirtualService or HTTPRoute) to 50/50 while the Rollout is at 20.
    WeightsDisagree,
    /// bookinfo: the route mirrors every request to the canary on top of its 20%.
    Mirror,
    /// bookinfo, healthy: the Rollout moved from 20 to 40 one minute before the snapshot.
    FreshStep,
    /// bookinfo: details-v1 was deleted, but something still serves its traffic under its name.
    DeletedWorkload,
    /// bookinfo: Prometheus scrapes without the `kubernetes-pods` relabelling: no `pod`, `namespace` or pod labels.
    NoPodLabels,
    /// bookinfo: ratings-v1 and ratings-v2 both set `service.istio.io/workload-name: ratings`.
    SharedName,
    /// gatewayapi: the reviews HTTPRoute names a Service port that does not exist; Istio does not accept it and
    /// in-mesh callers split by ready pods.
    RouteNotAccepted,
    /// gatewayapi: the canary backendRef names a Service that does not exist: its share fails with 500.
    MissingBackend,
    /// gatewayapi: the canary Service still selects an old pod-template hash: its share fails with 503 UH.
    StaleBackend,
    /// gatewayapi: the reviews HTTPRoute is bound to the ingress Gateway only: in-mesh callers split by ready pods.
    GatewayOnly,
    /// gatewayapi: bookinfo is in ambient mode without a waypoint, so Istio ignores the reviews HTTPRoute.
    NoWaypoint,
    /// gatewayapi: a VirtualService left over from before the migration claims the reviews host too.
    VsAndRoute,
    /// gatewayapi: the Rollout counts weights up to 50, but the plugin sets stable to 100 minus the canary.
    MaxWeight,
    /// gatewayapi: the Rollout mirrors to its canary with setMirrorRoute, which the plugin does not apply.
    MirrorStep,
}

impl Fault {
    /// The scenarios this fault can be planted in.
    pub fn scenarios(self) -> &'static [Scenario] {
        const BOOKINFO: &[Scenario] = &[Scenario::BookinfoCanary, Scenario::IstioUpgrade];
        match self {
            Fault::WeightsDisagree => &[Scenario::BookinfoCanary, Scenario::IstioUpgrade, Scenario::Gatewayapi],
            Fault::RouteNotAccepted
            | Fault::MissingBackend
            | Fault::StaleBackend
            | Fault::GatewayOnly
            | Fault::NoWaypoint
            | Fault::VsAndRoute
            | Fault::MaxWeight
            | Fault::MirrorStep => &[Scenario::Gatewayapi],
            _ => BOOKINFO,
        }
    }
}
