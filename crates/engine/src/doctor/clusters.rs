//! Telemetry naming a cluster no source was loaded as: its workloads can only be drawn outside, so a cluster ID
//! meshlens did not learn shows as an idle mesh with traffic beside it. Said, with the rates, rather than left to
//! be guessed from the graph.

use std::collections::BTreeMap;

use super::code::FindingCode;
use super::finding::Finding;
use crate::graph::Graph;
use crate::graph::build::is_unloaded_cluster;

/// One finding per cluster ID the graph's nodes carry that is not `loaded` (nor unknown to the proxies).
pub fn check(graph: &Graph, loaded: &str) -> Vec<Finding> {
    let mut by_cluster: BTreeMap<&str, (f64, f64, usize)> = BTreeMap::new();
    for node in graph.nodes.iter().filter(|n| is_unloaded_cluster(&n.cluster, loaded)) {
        let (rps_in, rps_out, nodes) = by_cluster.entry(&node.cluster).or_default();
        *rps_in += node.traffic.rps_in;
        *rps_out += node.traffic.rps_out;
        *nodes += 1;
    }
    by_cluster
        .into_iter()
        .map(|(cluster, (rps_in, rps_out, nodes))| {
            let summary = format!(
                "telemetry names cluster {cluster:?} ({nodes} nodes, {rps_in:.2} requests/s in, {rps_out:.2} out), but the objects were read as cluster {loaded:?}: those workloads are drawn outside"
            );
            Finding::new(FindingCode::UnloadedCluster, summary)
                .evidence("cluster", cluster)
                .evidence("loadedCluster", loaded)
                .evidence("nodes", nodes)
                .evidence("rpsIn", rps_in)
                .evidence("rpsOut", rps_out)
        })
        .collect()
}
