//! Bounded fuzzing of everything meshlens reads from outside: manifests (YAML and JSON), OpenMetrics files,
//! Prometheus API answers and the server's URLs. Each campaign mutates real inputs (seeded: the same inputs each
//! run unless `MESHLENS_FUZZ_SEED` changes them) for `MESHLENS_FUZZ_SECONDS` (12 by default) and first replays every
//! input that once failed, kept in `tests/fuzz/regressions/<target>/`. Inputs go through the whole path a user's
//! would (decode, identities, graph, doctor, pages and API), and a panic, a 500, an answer that is not JSON, an input
//! that hangs or one that allocates past the bound fails the test, naming the saved input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests fail loudly"
)]

#[path = "../common/alloc.rs"]
mod alloc;
mod harness;
mod manifests;
mod mutate;
mod openmetrics;
mod prometheus;
mod query;
mod world;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;
