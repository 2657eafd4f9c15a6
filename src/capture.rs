//! `meshlens capture`: a snapshot directory of what a live cluster and its telemetry showed, which every command
//! reads back with `--snapshot`: the objects as meshlens decodes them (only the fields it reads, so nothing else,
//! secrets included, can leave the cluster: [`crate::k8s::Object::to_manifest`]) and the raw samples of the
//! window (see [`samples`]).

pub mod samples;
