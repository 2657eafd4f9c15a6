//! What the telemetry cannot see: pods without a sidecar, workloads with no traffic in the window, and splits
//! that cannot be measured because series lack per-pod labels.

use crate::graph::{Graph, ScrapeLabels, Unmeasured};
use crate::identity::IdentityIndex;

use super::code::FindingCode;
use super::finding::{Finding, ObjectRef};

/// The scrape configuration (Istio's `samples/addons/prometheus.yaml`, job `kubernetes-pods`) that gives each
/// sidecar's series its pod, namespace and pod labels.
pub const SCRAPE_FIX: &str = "In the Prometheus job that scrapes the sidecars (port 15020), relabel: \
{source_labels: [__meta_kubernetes_namespace], target_label: namespace}, \
{source_labels: [__meta_kubernetes_pod_name], target_label: pod}, and \
{action: labelmap, regex: __meta_kubernetes_pod_label_(.+)} (copies rollouts-pod-template-hash).";

pub fn check(
    index: &IdentityIndex,
    graph: &Graph,
    scrape: &ScrapeLabels,
    selects: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for w in index.workloads().iter().filter(|w| selects(&w.id.namespace) && !w.pods.is_empty()) {
        let me = ObjectRef::new(w.id.kind.clone(), &w.id.namespace, &w.id.name);
        let outside: Vec<&str> = w.pods.iter().filter(|p| !p.in_mesh).map(|p| p.name.as_str()).collect();
        if !outside.is_empty() {
            let summary = format!(
                "{me}: {} of {} pods have no Istio sidecar; their traffic is not in the telemetry",
                outside.len(),
                w.pods.len()
            );
            findings.push(Finding::new(FindingCode::NoSidecar, summary).about(me.clone()).evidence("pods", outside));
        }
    }
    for node in graph.nodes.iter().filter(|n| selects(&n.namespace)) {
        let me = ObjectRef::workload_node(node);
        if node.is_idle && !node.is_ghost {
            let summary = format!("{me} sent and received nothing in the {} window", graph.duration);
            findings.push(Finding::new(FindingCode::NoTelemetry, summary).about(me.clone()));
        }
        let Some(split) = &node.split else { continue };
        if split.unmeasured == Some(Unmeasured::AmbientSameRevision) {
            let summary = format!(
                "{me}: {:.2} requests/s cannot be tied to a revision: {}",
                split.unattributed_rps,
                Unmeasured::AmbientSameRevision.reason()
            );
            findings.push(
                Finding::new(FindingCode::AmbientSplitUnmeasurable, summary)
                    .about(me)
                    .evidence("unattributedRps", split.unattributed_rps),
            );
        } else if split.attributed_by == "none" && node.traffic.rps_in > 0.0 {
            let summary = format!(
                "{me} received {:.2} requests/s, but no series carries the `{}` label (nor a pod-template hash, revision or per-revision Service): its split cannot be measured",
                node.traffic.rps_in, scrape.pod
            );
            findings.push(
                Finding::new(FindingCode::NoPodLabels, summary)
                    .about(me)
                    .evidence("podLabel", scrape.pod.clone())
                    .evidence("unattributedRps", split.unattributed_rps)
                    .advice(format!(
                        "{SCRAPE_FIX} If your setup names them differently, pass --pod-label / --namespace-label."
                    )),
            );
        }
    }
    findings
}
