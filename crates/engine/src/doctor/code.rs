//! The doctor's finding codes: one row each, with the code scripts match on, the severity a finding of it has
//! unless the case says otherwise, what it means (the README's table is checked against these rows) and, where
//! one text serves every finding of the code, the advice. A new finding is a row here and the check that finds it.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Requests fail or go where no object explains: `doctor` exits 1.
    Error,
    /// Traffic does not do what the objects ask for, or cannot be measured.
    Warning,
    /// Worth knowing, nothing is wrong.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

macro_rules! finding_codes {
    ($(
        $variant:ident, $code:literal, $severity:ident, $what:literal, advice: $advice:expr;
    )+) => {
        /// What kind of problem a finding is.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum FindingCode {
            $($variant,)+
        }

        impl FindingCode {
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant),+];

            /// Stable and kebab-case: what scripts match on.
            pub fn as_str(self) -> &'static str {
                match self { $(FindingCode::$variant => $code,)+ }
            }

            /// The severity of a finding of this code unless its case says otherwise.
            pub fn severity(self) -> Severity {
                match self { $(FindingCode::$variant => Severity::$severity,)+ }
            }

            /// What a finding of this code means, as the README's table says it.
            pub fn what(self) -> &'static str {
                match self { $(FindingCode::$variant => $what,)+ }
            }

            /// The advice every finding of this code gets; `None` where the advice depends on the case (it names
            /// the objects to change, or tells one cause from another) and the check writes it.
            pub fn advice(self) -> Option<&'static str> {
                match self { $(FindingCode::$variant => $advice,)+ }
            }
        }
    };
}

finding_codes! {
    GhostWorkload, "ghost-workload", Error,
        "a telemetry name no object explains, with the likely reason (a warning when it only sends)",
        advice: Some("Find the pods that report this name (their sidecars' ISTIO_META_WORKLOAD_NAME, or the service.istio.io/workload-name label): a deleted controller whose pods live on, pods injected by an older Istio (restart them), or a controller kind meshlens does not read.");
    AmbiguousName, "ambiguous-name", Warning,
        "one telemetry name, several workloads",
        advice: Some("Give each workload its own service.istio.io/workload-name, or finish the migration (workloadRef) that left two controllers with one name.");
    UnknownSubset, "unknown-subset", Error,
        "a route to a subset no DestinationRule defines: 503 `NR`",
        advice: None;
    SubsetMatchesNoPods, "subset-matches-no-pods", Error,
        "a subset whose labels select no pod (a stale hash): 503 `UH`",
        advice: Some("Make the subset's labels select the revision's pods (Argo Rollouts writes the rollouts-pod-template-hash of each subset: check the Rollout's destinationRule names), or take the subset out of the route.");
    SubsetPodsNotReady, "subset-pods-not-ready", Error,
        "a subset whose pods are not ready: 503 `UH`",
        advice: Some("Find out why the pods are not ready (kubectl describe pod); until they are, route no weight to this subset.");
    UnknownHost, "unknown-host", Warning,
        "a route to a host that is not a Service of a loaded namespace",
        advice: Some("Fix the host, or create the Service (or a ServiceEntry for a host outside the cluster).");
    VsNotBoundToMesh, "vs-not-bound-to-mesh", Warning,
        "a Rollout's VirtualService bound to gateways only: in-mesh callers split by ready pods; names the VirtualService and the missing `mesh`",
        advice: None;
    RoutesDisagreeWithRollout, "routes-disagree-with-rollout", Warning,
        "route weights differ from the Rollout's setWeight (for the Gateway API plugin: from the canary and `100 −` canary weights it writes; names the route and rule)",
        advice: None;
    RouteNotAccepted, "route-not-accepted", Warning,
        "a Gateway API route's controller does not accept it (`status.parents[].conditions` `Accepted=False`): it is not in effect",
        advice: Some("Fix what the message names (a parentRef to a listener that allows the route, a Service port that exists); until then the route is not in effect and calls to its parent go as if it did not exist.");
    RouteRefsUnresolved, "route-refs-unresolved", Error,
        "a Gateway API route whose references do not resolve (`ResolvedRefs=False`): those requests are answered 500",
        advice: Some("Fix the backendRefs (name, port, kind), or add the ReferenceGrant a backend in another namespace needs: requests a rule sends to an unresolved backend are answered 500.");
    BackendNotFound, "backend-not-found", Error,
        "a backendRef with weight to a Service that does not exist: 500",
        advice: Some("Fix the backendRef's name (or create the Service); a Rollout's canary and stable backends must name its canaryService and stableService.");
    BackendNoReadyPods, "backend-no-ready-pods", Error,
        "a backendRef to a Service that selects no ready pod, naming a stale `rollouts-pod-template-hash`: 503 `UH`",
        advice: None;
    RouteNotBoundToMesh, "route-not-bound-to-mesh", Warning,
        "a Rollout's plugin routes bound to Gateways only while in-mesh callers split by ready pods (the Gateway API analogue of `vs-not-bound-to-mesh`)",
        advice: None;
    RouteWithoutWaypoint, "route-without-waypoint", Warning,
        "in ambient mode, a route bound to a Service with no waypoint (`istio.io/use-waypoint` on neither the Service nor its namespace): Istio ignores it",
        advice: None;
    VsAndRouteSameHost, "vs-and-route-same-host", Warning,
        "a VirtualService and a Gateway API route claim one Service or hostname",
        advice: Some("Keep one routing API per host: delete the VirtualService once the route replaces it (or the route, if the VirtualService is the one meant to apply).");
    PluginMaxWeight, "plugin-max-weight", Warning,
        "a Rollout with `maxTrafficWeight` other than 100 routed by the Gateway API plugin, which sets stable to 100 minus the canary weight",
        advice: Some("Leave trafficRouting.maxTrafficWeight unset (100) for Rollouts routed by the Gateway API plugin, and write setWeight steps in percent.");
    MirrorStepNotApplied, "mirror-step-not-applied", Warning,
        "a `setMirrorRoute` step in effect on a Rollout routed by the Gateway API plugin, whose mirror steps do nothing (v0.15)",
        advice: Some("Do not count on mirrored traffic reaching the canary: the plugin's SetMirrorRoute does nothing (upstream issue argoproj-labs/rollouts-plugin-trafficrouter-gatewayapi#32). Add a RequestMirror filter to the route yourself, or judge the canary by its routed share.");
    MirrorRoute, "mirror-route", Warning,
        "a mirror to the canary inflates its measured share",
        advice: Some("Read the canary's share with the mirror in mind, or remove the mirror (setMirrorRoute) before judging the split.");
    SplitDrift, "split-drift", Warning,
        "observed canary share off its weight by more than the threshold, with `likelyCauses` (codes of the findings above)",
        advice: None;
    ReporterGap, "reporter-gap", Warning,
        "calls that both ends' sidecars should report, reported by one side only: the silent workload's proxies are not scraped, or a relabelling drops their series; names the pods and peers",
        advice: Some("Check that Prometheus scrapes these pods' sidecars (port 15020, path /stats/prometheus) and that no relabelling or metric_relabel_configs rule drops their istio_* series; `up` and `count by (pod) (istio_requests_total)` for the pods tell which.");
    NoPodLabels, "no-pod-labels", Warning,
        "series without per-pod labels: the split cannot be measured; the advice gives the scrape relabelling",
        advice: None;
    AmbientSplitUnmeasurable, "ambient-split-unmeasurable", Warning,
        "an ambient waypoint reports the calls to a Rollout (its series carry the waypoint's own pod label) and its revisions share one canonical revision: the split is shown as not measurable; the advice sets `service.istio.io/canonical-revision` in `canaryMetadata` / `stableMetadata`",
        advice: Some("Give the revisions distinct canonical revisions: in the Rollout set canaryMetadata.labels and stableMetadata.labels \
                         to service.istio.io/canonical-revision: canary / stable. In ambient mode istiod recomputes the canonical revision \
                         from the pods' current labels and ztunnel and waypoints report it, so promotion relabels pods in place and the \
                         split stays measurable. (Sidecars read their labels only at start: a sidecar pod reports a changed label \
                         only after a restart.) Alternatively split by canary and stable Services (canaryService / stableService): \
                         a waypoint reports the Service its route chose.");
    UnloadedCluster, "unloaded-cluster", Warning,
        "telemetry names a cluster ID no source was loaded as (a cluster installed with `global.multiCluster.clusterName`, read without its sidecars' ID or `--cluster-id`, or a cluster not read): its workloads are drawn outside; names the cluster and its rates",
        advice: Some("If this is the cluster you read, its sidecars report this cluster ID and meshlens could not learn it (an older capture, pods without a sidecar): pass --cluster-id with it (the global.multiCluster.clusterName Istio was installed with). Otherwise, read that cluster too.");
    StepTooRecent, "step-too-recent", Info,
        "a canary step too young to judge (under two minutes)",
        advice: None;
    NoSidecar, "no-sidecar", Info,
        "a workload with pods that have no sidecar",
        advice: Some("If the workload belongs in the mesh, label its namespace (istio-injection=enabled or istio.io/rev) and restart its pods.");
    NoTelemetry, "no-telemetry", Info,
        "a workload that sent and received nothing in the window",
        advice: Some("Expected for a workload nothing calls; otherwise check that its pods have sidecars and are scraped.");
}

meshlens_k8s::written_as_text!(FindingCode);

/// The README's table of codes, as the rows above write it.
pub fn markdown_table() -> String {
    let mut out = String::from("| code | severity | what |\n|------|----------|------|\n");
    for code in FindingCode::ALL {
        out.push_str(&format!("| `{code}` | {} | {} |\n", code.severity().as_str(), code.what()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_kebab_case() {
        let mut codes: Vec<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        assert!(codes.iter().all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')), "{codes:?}");
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), FindingCode::ALL.len());
    }
}
