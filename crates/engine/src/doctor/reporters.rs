//! Edges only one side reports although both ends have sidecars: the silent side's metrics never reach the
//! telemetry store (its pods are not scraped, or a relabelling drops their series).

use std::collections::{BTreeMap, HashMap};

use crate::graph::{Graph, Node, Protocol, Reporter};
use crate::identity::{IdentityIndex, Workload};

use super::code::FindingCode;
use super::finding::{Finding, ObjectRef};

/// The pods named in a finding's evidence, at most.
const PODS_SHOWN: usize = 5;

pub fn check(index: &IdentityIndex, graph: &Graph, selects: &dyn Fn(&str) -> bool) -> Vec<Finding> {
    let nodes: HashMap<&str, &Node> = graph.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    // Per silent workload and the reporter it lacks: the peers whose calls only the other side reported.
    let mut gaps: BTreeMap<(&str, Reporter), Vec<(&str, f64)>> = BTreeMap::new();
    for edge in graph.edges.iter().filter(|e| e.protocol != Protocol::Tcp) {
        let (Some(&source), Some(&target)) = (nodes.get(edge.source.as_str()), nodes.get(edge.target.as_str())) else {
            continue;
        };
        let only: Vec<Reporter> = edge.reported_by.iter().copied().collect();
        let reached = edge.responses.by_flags().get("-").is_some_and(|rps| *rps > 0.0);
        let (silent, peer, missing) = match only.as_slice() {
            // Calls that never reached the callee (UO, UF, NR...) are the caller's alone to report.
            [Reporter::Source] if reached => (target, source, Reporter::Destination),
            [Reporter::Destination] => (source, target, Reporter::Source),
            _ => continue,
        };
        if selects(&silent.namespace) && all_pods_have_sidecars(index, silent) {
            gaps.entry((silent.id.as_str(), missing)).or_default().push((peer.name.as_str(), edge.rps));
        }
    }
    gaps.into_iter()
        .filter_map(|((silent, missing), peers)| Some(finding(index, nodes.get(silent)?, missing, &peers)))
        .collect()
}

/// Whether `node` is a workload whose every pod has a sidecar, so each should report its L7 calls (an ambient
/// pod's are reported only by a waypoint, if it has one: one side's report is all there is).
fn all_pods_have_sidecars(index: &IdentityIndex, node: &Node) -> bool {
    workload_of(index, node).is_some_and(|w| !w.pods.is_empty() && w.pods.iter().all(|p| p.sidecar))
}

/// The workload a workload node stands for; none for ghosts, services and unknown callers.
fn workload_of<'i>(index: &'i IdentityIndex, node: &Node) -> Option<&'i Workload> {
    let kind = node.workload_kind.as_ref()?;
    index.named(&node.namespace, &node.name).find(|w| w.id.kind == *kind)
}

fn finding(index: &IdentityIndex, silent: &Node, missing: Reporter, peers: &[(&str, f64)]) -> Finding {
    let me = ObjectRef::workload_node(silent);
    let rps: f64 = peers.iter().map(|(_, rps)| rps).sum();
    let direction = match missing {
        Reporter::Source => "calls it makes to",
        _ => "calls it receives from",
    };
    let names: Vec<&str> = peers.iter().map(|(name, _)| *name).collect();
    let summary = format!(
        "{me}: its sidecars report none of the {direction} {} ({rps:.2} requests/s, seen by the other side only)",
        names.join(", ")
    );
    let pods: Vec<&str> =
        workload_of(index, silent).iter().flat_map(|w| &w.pods).map(|p| p.name.as_str()).take(PODS_SHOWN).collect();
    Finding::new(FindingCode::ReporterGap, summary)
        .about(me)
        .evidence("missingReporter", missing.as_label())
        .evidence("peers", names)
        .evidence("rps", rps)
        .evidence("pods", pods)
}
