//! `meshlens capture`: a snapshot directory of what a live cluster and its telemetry showed, which every command
//! reads back with `--snapshot`: the objects (with secrets left out, see [`redact`]) and the raw samples of the
//! window (see [`samples`]).

pub mod redact;
pub mod samples;
