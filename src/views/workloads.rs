//! Workloads as a table (`meshlens workloads`) and one workload in full (`meshlens workload`).

use crate::identity::{Workload, roles_text};

use crate::terminal::table::{self, render};

/// One row per workload: where it is, what it is, its pods and the names telemetry knows it by.
pub fn workloads_table(workloads: &[&Workload]) -> String {
    let mut rows = vec![
        ["NAMESPACE", "NAME", "KIND", "APP", "VERSION", "READY", "REVISIONS", "TELEMETRY NAMES"]
            .map(String::from)
            .to_vec(),
    ];
    for w in workloads {
        let revisions = w.replica_sets.iter().filter(|rs| rs.experiment.is_none()).count();
        let mut kind = w.id.kind.to_string();
        if w.inferred {
            kind.push('?');
        }
        rows.push(vec![
            w.id.namespace.clone(),
            w.id.name.clone(),
            kind,
            w.app.clone(),
            w.version.clone(),
            format!("{}/{}", w.ready_pods(), w.pods.len()),
            if revisions == 0 { "-".into() } else { revisions.to_string() },
            w.telemetry_names.iter().cloned().collect::<Vec<_>>().join(","),
        ]);
    }
    let mut out = render(&rows);
    if workloads.iter().any(|w| w.inferred) {
        out.push_str("\n? the controller object is not in the snapshot; kind and name come from its pods\n");
    }
    out
}

/// Everything about one workload: identity, telemetry names, every ReplicaSet and every pod.
pub fn workload_text(w: &Workload) -> String {
    let mut out = String::new();
    let mut field = |label: &str, value: &str| table::field(&mut out, label, value);
    field("Name:", &w.id.name);
    field("Namespace:", &w.id.namespace);
    field("Kind:", &format!("{} ({})", w.id.kind, w.api_version));
    if w.inferred {
        field("", "(not in the snapshot: known from its pods and their owner references)");
    }
    if let Some(from) = &w.template_from {
        field("Template from:", from);
    }
    field("Cluster:", &w.id.cluster);
    field("App:", &w.app);
    field("Version:", &w.version);
    field("Telemetry names:", &w.telemetry_names.iter().cloned().collect::<Vec<_>>().join(", "));
    field("Pods:", &format!("{} ({} ready)", w.pods.len(), w.ready_pods()));
    if !w.replica_sets.is_empty() {
        out.push('\n');
        let mut rows =
            vec![["REPLICASET", "REVISION", "ROLES", "DESIRED", "READY", "STATUS", "HASH"].map(String::from).to_vec()];
        for rs in &w.replica_sets {
            let mut roles = roles_text(&rs.roles);
            if let Some(exp) = &rs.experiment {
                roles = format!("experiment {exp}");
            }
            rows.push(vec![
                rs.name.clone(),
                rs.revision.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                if roles.is_empty() { "-".into() } else { roles },
                rs.replicas.to_string(),
                rs.ready_replicas.to_string(),
                rs.status.clone(),
                rs.hash.clone().unwrap_or_else(|| "-".into()),
            ]);
        }
        out.push_str(&render(&rows));
    }
    if !w.pods.is_empty() {
        out.push('\n');
        let mut rows = vec![
            ["POD", "REPLICASET", "ROLES", "STATUS", "READY", "RESTARTS", "NODE", "TELEMETRY NAME"]
                .map(String::from)
                .to_vec(),
        ];
        for p in &w.pods {
            let roles = roles_text(&p.roles);
            let mut telemetry = p.telemetry_name.clone();
            if !p.in_mesh {
                telemetry = format!("{telemetry} (no sidecar)");
            }
            rows.push(vec![
                p.name.clone(),
                p.replica_set.clone().unwrap_or_else(|| "-".into()),
                if roles.is_empty() { "-".into() } else { roles },
                p.status.clone(),
                p.ready_containers.clone(),
                p.restarts.to_string(),
                p.node.clone().unwrap_or_else(|| "-".into()),
                telemetry,
            ]);
        }
        out.push_str(&render(&rows));
    }
    out
}
