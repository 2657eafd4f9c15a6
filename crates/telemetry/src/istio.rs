//! Istio's vocabulary: its standard metrics, their labels, and the pod and namespace labels Istio reads. The one
//! place these names are written: queries, the graph's decoding, the identity rules and the capture name them from
//! here (Istio's `tools/metrics`, `pkg/config/constants` and `pkg/kube/labels` are where they come from).

/// The series of Istio's standard metrics, as a Prometheus stores them.
pub mod metric {
    pub const REQUESTS: &str = "istio_requests_total";
    pub const DURATION_BUCKETS: &str = "istio_request_duration_milliseconds_bucket";
    pub const DURATION_COUNT: &str = "istio_request_duration_milliseconds_count";
    pub const DURATION_SUM: &str = "istio_request_duration_milliseconds_sum";
    pub const TCP_SENT: &str = "istio_tcp_sent_bytes_total";
    pub const TCP_RECEIVED: &str = "istio_tcp_received_bytes_total";
}

/// The same metrics as OpenMetrics names their families (no `_total` or histogram suffix).
pub mod family {
    pub const REQUESTS: &str = "istio_requests";
    pub const DURATION: &str = "istio_request_duration_milliseconds";
    pub const TCP_SENT: &str = "istio_tcp_sent_bytes";
    pub const TCP_RECEIVED: &str = "istio_tcp_received_bytes";
}

/// What a proxy writes in a label it could not fill (a peer without metadata exchange, a caller outside the mesh).
pub const UNKNOWN: &str = "unknown";

/// The labels Istio's proxies put on every standard metric.
pub mod label {
    /// Which proxy reported the series: `source`, `destination` or `waypoint`.
    pub const REPORTER: &str = "reporter";
    pub const SOURCE_CLUSTER: &str = "source_cluster";
    pub const SOURCE_WORKLOAD: &str = "source_workload";
    pub const SOURCE_WORKLOAD_NAMESPACE: &str = "source_workload_namespace";
    pub const SOURCE_CANONICAL_SERVICE: &str = "source_canonical_service";
    pub const SOURCE_CANONICAL_REVISION: &str = "source_canonical_revision";
    pub const DESTINATION_CLUSTER: &str = "destination_cluster";
    pub const DESTINATION_WORKLOAD: &str = "destination_workload";
    pub const DESTINATION_WORKLOAD_NAMESPACE: &str = "destination_workload_namespace";
    pub const DESTINATION_CANONICAL_SERVICE: &str = "destination_canonical_service";
    pub const DESTINATION_CANONICAL_REVISION: &str = "destination_canonical_revision";
    /// The Service host the call was addressed to (`reviews.bookinfo.svc.cluster.local`).
    pub const DESTINATION_SERVICE: &str = "destination_service";
    pub const DESTINATION_SERVICE_NAME: &str = "destination_service_name";
    pub const DESTINATION_SERVICE_NAMESPACE: &str = "destination_service_namespace";
    pub const REQUEST_PROTOCOL: &str = "request_protocol";
    pub const RESPONSE_CODE: &str = "response_code";
    pub const RESPONSE_FLAGS: &str = "response_flags";
    pub const GRPC_RESPONSE_STATUS: &str = "grpc_response_status";
}

/// Labels Istio reads on pods, Services and namespaces.
pub mod pod_label {
    /// The canonical service, before `app.kubernetes.io/name` and `app`.
    pub const CANONICAL_NAME: &str = "service.istio.io/canonical-name";
    /// The canonical revision, before `app.kubernetes.io/version` and `version`.
    pub const CANONICAL_REVISION: &str = "service.istio.io/canonical-revision";
    /// Where Istio reads a workload's canonical service, first found first: else the workload's name.
    pub const CANONICAL_SERVICE_LABELS: [&str; 3] = [CANONICAL_NAME, "app.kubernetes.io/name", "app"];
    /// Where Istio reads a workload's canonical revision, first found first: else `latest`.
    pub const CANONICAL_REVISION_LABELS: [&str; 3] = [CANONICAL_REVISION, "app.kubernetes.io/version", "version"];
    /// Replaces the computed workload name (Istio >= 1.25).
    pub const WORKLOAD_NAME: &str = "service.istio.io/workload-name";
    /// `ambient` puts a pod or namespace in the ambient mesh; `none` opts a pod out.
    pub const DATAPLANE_MODE: &str = "istio.io/dataplane-mode";
    /// The value of [`DATAPLANE_MODE`] that enrols in ambient mode.
    pub const DATAPLANE_AMBIENT: &str = "ambient";
    /// The waypoint of a Service or namespace (`none` opts out).
    pub const USE_WAYPOINT: &str = "istio.io/use-waypoint";
    /// The namespace of the waypoint `istio.io/use-waypoint` names; default: the labelled object's own.
    pub const USE_WAYPOINT_NAMESPACE: &str = "istio.io/use-waypoint-namespace";
    /// The label and value Istio puts on the waypoint proxies it deploys for Gateways of class `istio-waypoint`.
    pub const WAYPOINT_MANAGED: (&str, &str) = ("gateway.istio.io/managed", "istio.io-mesh-controller");
    /// The Gateway an Istio-deployed gateway pod serves (older releases).
    pub const GATEWAY_NAME: &str = "istio.io/gateway-name";
}

/// Labels the scrape configuration copies from pod labels onto every series (`labelmap`), which the split by
/// revision reads.
pub mod scrape {
    pub const ROLLOUT_HASH: &str = "rollouts_pod_template_hash";
    pub const DEPLOYMENT_HASH: &str = "pod_template_hash";
}
