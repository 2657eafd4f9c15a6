//! Telemetry: Istio metrics as values, and the formats they are stored in.

pub mod openmetrics;
