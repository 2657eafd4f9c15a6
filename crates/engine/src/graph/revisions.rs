//! The measured split of a workload with revisions: each destination-reported per-pod series is attributed to a
//! ReplicaSet (by its `pod` label, else the copied pod-template hash, else the canonical revision, else the
//! Service name of a host-level split), and each revision gets its share, rate, error ratio and p95, overall and
//! per caller.

use std::collections::BTreeMap;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::identity::{ReplicaSetEntry, Workload};
use meshlens_telemetry::Row;
use meshlens_telemetry::functions::bucket_quantile;
use meshlens_telemetry::istio::{label, scrape};

use super::plan::QUANTILE;
use super::routing::{Weights, traffic_role};
use super::{CallerSplit, Reporter, Revision, RevisionShare, ScrapeLabels, SplitSource, TrafficRole, Unmeasured};

/// How a series was tied to a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Method {
    Pod,
    Hash,
    CanonicalRevision,
    ServiceName,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Pod => "pod",
            Method::Hash => "podTemplateHash",
            Method::CanonicalRevision => "canonicalRevision",
            Method::ServiceName => "serviceName",
        }
    }
}

/// The revision split of one workload.
pub struct Split {
    pub revisions: Vec<Revision>,
    pub source: SplitSource,
    pub callers: Vec<CallerSplit>,
}

/// Revision rows by destination `(namespace, telemetry name)`, so each workload reads only its own.
pub struct ByDestination<'r>(FxHashMap<(&'r str, &'r str), Vec<&'r Row>>);

impl<'r> ByDestination<'r> {
    pub fn new(rows: &'r [Row]) -> ByDestination<'r> {
        let mut map: FxHashMap<(&str, &str), Vec<&Row>> = FxHashMap::default();
        for row in rows.iter().filter(|r| r.value.is_finite()) {
            let key = (row.label(label::DESTINATION_WORKLOAD_NAMESPACE), row.label(label::DESTINATION_WORKLOAD));
            map.entry(key).or_default().push(row);
        }
        ByDestination(map)
    }

    /// The rows whose destination is `w` under any of its telemetry names.
    pub fn of(&self, w: &Workload) -> Vec<&'r Row> {
        let ns = w.id.namespace.as_str();
        w.telemetry_names.iter().filter_map(|n| self.0.get(&(ns, n.as_str()))).flatten().copied().collect()
    }
}

fn reported_by_waypoint(row: &Row) -> bool {
    row.label(label::REPORTER) == Reporter::Waypoint.as_label()
}

/// Ties a per-pod row to a ReplicaSet of `w`.
fn attribute<'w>(
    w: &'w Workload,
    weights: &Weights,
    row: &Row,
    labels: &ScrapeLabels,
) -> Option<(&'w ReplicaSetEntry, Method)> {
    let by_name = |name: &str| w.replica_sets.iter().find(|rs| rs.name == name);
    // An ambient waypoint's series carry the waypoint pod's own `pod` and hash labels: only the canonical
    // revision (which Istio recomputes from the destination pod's current labels) and the Service tell its
    // revisions apart. The Service a waypoint reports is the one its route chose (the upstream cluster's Service,
    // see `Unmeasured::AmbientSameRevision`), so a split between canary and stable Services is measured.
    let via_waypoint = reported_by_waypoint(row);
    let pod = if via_waypoint { "" } else { row.label(&labels.pod) };
    if !pod.is_empty() {
        if let Some(rs) = w.pods.iter().find(|p| p.name == pod).and_then(|p| p.replica_set.as_deref()).and_then(by_name)
        {
            return Some((rs, Method::Pod));
        }
        // A pod replaced during the window: its name still starts with its ReplicaSet's.
        if let Some(rs) = pod.rsplit_once('-').and_then(|(prefix, _)| by_name(prefix)) {
            return Some((rs, Method::Pod));
        }
    }
    for hash_label in [scrape::ROLLOUT_HASH, scrape::DEPLOYMENT_HASH].into_iter().filter(|_| !via_waypoint) {
        let hash = row.label(hash_label);
        if let Some(rs) =
            (!hash.is_empty()).then(|| w.replica_sets.iter().find(|rs| rs.hash.as_deref() == Some(hash))).flatten()
        {
            return Some((rs, Method::Hash));
        }
    }
    let revision = row.label(label::DESTINATION_CANONICAL_REVISION);
    let matching: Vec<&ReplicaSetEntry> =
        w.replica_sets.iter().filter(|rs| rs.canonical_revision.as_deref() == Some(revision)).collect();
    let distinct = w
        .replica_sets
        .iter()
        .filter_map(|rs| rs.canonical_revision.as_ref())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if let [rs] = matching.as_slice()
        && distinct > 1
    {
        return Some((rs, Method::CanonicalRevision));
    }
    let service = row.label(label::DESTINATION_SERVICE_NAME);
    let role = if weights.canary_service.as_deref() == Some(service) {
        Some(TrafficRole::Canary)
    } else if weights.stable_service.as_deref() == Some(service) {
        Some(TrafficRole::Stable)
    } else {
        None
    };
    let with_role: Vec<&ReplicaSetEntry> =
        w.replica_sets.iter().filter(|rs| Some(traffic_role(&rs.roles)) == role).collect();
    match with_role.as_slice() {
        [rs] => Some((rs, Method::ServiceName)),
        _ => None,
    }
}

fn is_error(row: &Row) -> bool {
    super::edge::is_error(
        row.label(label::REQUEST_PROTOCOL),
        row.label(label::RESPONSE_CODE),
        row.label(label::GRPC_RESPONSE_STATUS),
    )
}

#[derive(Default)]
struct Acc {
    rps: f64,
    errors: f64,
    buckets: Vec<(f64, f64)>,
    by_caller: BTreeMap<Rc<str>, f64>,
}

/// Computes the split of `w` from the revision rows; `caller` maps a row to its source node id.
pub fn split<'r>(
    w: &Workload,
    weights: &Weights,
    requests: &[&'r Row],
    latency: &[&'r Row],
    labels: &ScrapeLabels,
    caller: &mut dyn FnMut(&'r Row) -> Rc<str>,
) -> Split {
    let mut acc: FxHashMap<&str, Acc> = FxHashMap::default();
    let mut methods: BTreeMap<Method, f64> = BTreeMap::new();
    let (mut total, mut unattributed, mut unattributed_via_waypoint) = (0.0, 0.0, 0.0);
    let mut caller_totals: BTreeMap<Rc<str>, f64> = BTreeMap::new();
    for &row in requests {
        total += row.value;
        let source = caller(row);
        *caller_totals.entry(source.clone()).or_default() += row.value;
        match attribute(w, weights, row, labels) {
            Some((rs, method)) => {
                *methods.entry(method).or_default() += row.value;
                let a = acc.entry(rs.name.as_str()).or_default();
                a.rps += row.value;
                if is_error(row) {
                    a.errors += row.value;
                }
                *a.by_caller.entry(source).or_default() += row.value;
            }
            None => {
                unattributed += row.value;
                if reported_by_waypoint(row) {
                    unattributed_via_waypoint += row.value;
                }
            }
        }
    }
    for &row in latency {
        let (Some((rs, _)), Some(le)) = (attribute(w, weights, row, labels), parse_le(row.label("le"))) else {
            continue;
        };
        let buckets = &mut acc.entry(rs.name.as_str()).or_default().buckets;
        match buckets.iter_mut().find(|(b, _)| *b == le) {
            Some(bucket) => bucket.1 += row.value,
            None => buckets.push((le, row.value)),
        }
    }
    let mut revisions: Vec<Revision> = w
        .replica_sets
        .iter()
        .filter(|rs| rs.experiment.is_none())
        .filter(|rs| !rs.roles.is_empty() || acc.get(rs.name.as_str()).is_some_and(|a| a.rps > 0.0))
        .map(|rs| {
            let empty = Acc::default();
            let a = acc.get(rs.name.as_str()).unwrap_or(&empty);
            let mut buckets = a.buckets.clone();
            let p95 = Some(bucket_quantile(QUANTILE, &mut buckets)).filter(|v| v.is_finite());
            let pods: Vec<_> = w.pods.iter().filter(|p| p.replica_set.as_ref() == Some(&rs.name)).collect();
            Revision {
                replica_set: rs.name.clone(),
                hash: rs.hash.clone(),
                revision: rs.revision,
                role: traffic_role(&rs.roles),
                roles: rs.roles.clone(),
                // Nothing told revisions apart: the share is unknown, not zero.
                observed_share: (total > unattributed).then(|| a.rps / total),
                intended_weight: weights.intended.get(&rs.name).copied(),
                routed_weight: weights.routed.get(&rs.name).copied(),
                rps: a.rps,
                error_ratio: (a.rps > 0.0).then(|| a.errors / a.rps),
                p95_ms: p95,
                pods: pods.len(),
                ready_pods: pods.iter().filter(|p| p.ready).count(),
            }
        })
        .collect();
    revisions.sort_by(|a, b| {
        a.role.cmp(&b.role).then_with(|| b.revision.cmp(&a.revision)).then_with(|| a.replica_set.cmp(&b.replica_set))
    });
    let callers = caller_totals
        .into_iter()
        .map(|(source, rps)| CallerSplit {
            revisions: revisions
                .iter()
                .map(|r| {
                    let sent =
                        acc.get(r.replica_set.as_str()).and_then(|a| a.by_caller.get(&source)).copied().unwrap_or(0.0);
                    RevisionShare {
                        replica_set: r.replica_set.clone(),
                        rps: sent,
                        share: if rps > 0.0 { sent / rps } else { 0.0 },
                    }
                })
                .collect(),
            source: source.to_string(),
            rps,
        })
        .collect();
    let attributed_by = methods.iter().max_by(|a, b| a.1.total_cmp(b.1)).map(|(m, _)| m.name()).unwrap_or("none");
    let source = SplitSource {
        attributed_by: attributed_by.to_owned(),
        unattributed_rps: unattributed,
        unmeasured: (unattributed_via_waypoint > 0.0).then_some(Unmeasured::AmbientSameRevision),
        mirrored: weights.mirrored,
        routes: weights.routes.clone(),
    };
    Split { revisions, source, callers }
}

fn parse_le(le: &str) -> Option<f64> {
    match le {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        _ => le.parse().ok(),
    }
}
