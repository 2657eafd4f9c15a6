//! Graphs computed once: a graph request answered a moment ago is answered again from memory, concurrent identical
//! requests share one computation, and a changed world (a live source's update) starts afresh. A computation
//! lives as long as someone waits for it: when every client that asked has gone, it is dropped, and the queries it
//! had in flight with it.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared, WeakShared};

use crate::graph::{Graph, GraphRequest};

use super::error::ApiError;

/// Graphs kept: about a screenful of namespaces, graph types and windows; each holds one graph's nodes and edges.
pub const MAX_GRAPHS: usize = 32;

/// A graph request in one world.
type Key = (u64, GraphRequest);

/// A computation its waiters share.
type Computing = Shared<BoxFuture<'static, Result<Arc<Graph>, ApiError>>>;

/// A graph, or the computation of one for as long as someone waits for it.
enum Entry {
    Computing(WeakShared<BoxFuture<'static, Result<Arc<Graph>, ApiError>>>),
    Done(Arc<Graph>),
}

/// Computed (or computing) graphs by request, oldest first out.
#[derive(Default)]
pub struct GraphCache {
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    entries: HashMap<Key, Entry>,
    order: VecDeque<Key>,
}

impl GraphCache {
    /// The graph of `req` in world `generation`: from memory, or computed by `compute` once however many ask at
    /// the same time. A failed computation is not kept: the next request tries again. Dropped by every caller, the
    /// computation is dropped.
    pub async fn get_or_compute<F>(
        &self,
        generation: u64,
        req: &GraphRequest,
        compute: impl FnOnce() -> F,
    ) -> Result<Arc<Graph>, ApiError>
    where
        F: Future<Output = Result<Graph, ApiError>> + Send + 'static,
    {
        let key = (generation, req.clone());
        let computing = match self.find_or_start(&key, compute) {
            Ok(graph) => return Ok(graph),
            Err(computing) => computing,
        };
        let outcome = computing.await;
        self.finish(&key, &outcome);
        outcome
    }

    /// The graph of `key`; else the computation someone still waits for; else a new one, started. One lock for
    /// all three, so two requests that arrive together cannot both start one.
    fn find_or_start<F>(&self, key: &Key, compute: impl FnOnce() -> F) -> Result<Arc<Graph>, Computing>
    where
        F: Future<Output = Result<Graph, ApiError>> + Send + 'static,
    {
        let mut entries = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match entries.entries.get(key) {
            Some(Entry::Done(graph)) => return Ok(graph.clone()),
            Some(Entry::Computing(weak)) => {
                if let Some(computing) = weak.upgrade() {
                    return Err(computing);
                }
            }
            None => {}
        }
        let computing: Computing = compute().map(|graph| graph.map(Arc::new)).boxed().shared();
        if let Some(weak) = computing.downgrade() {
            entries.start(key.clone(), weak);
        }
        Err(computing)
    }

    /// Keeps a computed graph; forgets a failed computation.
    fn finish(&self, key: &Key, outcome: &Result<Arc<Graph>, ApiError>) {
        let mut entries = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(entry @ Entry::Computing(_)) = entries.entries.get_mut(key) else { return };
        match outcome {
            Ok(graph) => *entry = Entry::Done(graph.clone()),
            Err(_) => {
                entries.entries.remove(key);
            }
        }
    }
}

impl Entries {
    /// Remembers the computation of `key`, making room: the oldest graphs go first.
    fn start(&mut self, key: Key, weak: WeakShared<BoxFuture<'static, Result<Arc<Graph>, ApiError>>>) {
        // Graphs of an older world are never asked for again.
        let generation = key.0;
        self.entries.retain(|k, _| k.0 == generation);
        let Entries { entries, order } = self;
        order.retain(|k| entries.contains_key(k) && *k != key);
        while order.len() >= MAX_GRAPHS {
            if let Some(oldest) = order.pop_front() {
                entries.remove(&oldest);
            }
        }
        entries.insert(key.clone(), Entry::Computing(weak));
        order.push_back(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn request(at: i64) -> GraphRequest {
        GraphRequest::new(at, 600, Default::default())
    }

    fn empty_graph() -> Graph {
        Graph {
            graph_type: crate::graph::GraphType::Workload,
            time: String::new(),
            duration: "10m".into(),
            namespaces: Vec::new(),
            nodes: Vec::new(),
            edges: Vec::new(),
            edge_latency: false,
            warnings: Vec::new(),
            telemetry: Default::default(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn identical_requests_share_one_computation_and_a_new_world_recomputes() {
        let cache = Arc::new(GraphCache::default());
        let computed = Arc::new(AtomicUsize::new(0));
        let ask = |generation: u64, at: i64| {
            let (cache, computed) = (cache.clone(), computed.clone());
            tokio::spawn(async move {
                cache
                    .get_or_compute(generation, &request(at), || async move {
                        computed.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        Ok(empty_graph())
                    })
                    .await
                    .map_err(|e| e.to_string())
            })
        };
        let together: Vec<_> = (0..8).map(|_| ask(1, 100)).collect();
        let mut graphs = Vec::new();
        for task in together {
            graphs.push(task.await.expect("task").expect("graph"));
        }
        assert_eq!(computed.load(Ordering::SeqCst), 1, "eight concurrent requests, one computation");
        assert!(graphs.iter().all(|g| Arc::ptr_eq(g, &graphs[0])));
        ask(1, 100).await.expect("task").expect("graph");
        assert_eq!(computed.load(Ordering::SeqCst), 1, "answered from memory");
        ask(1, 110).await.expect("task").expect("graph");
        ask(2, 100).await.expect("task").expect("graph");
        assert_eq!(computed.load(Ordering::SeqCst), 3, "another time, another world: computed again");
    }

    #[tokio::test]
    async fn a_failure_is_not_kept_and_the_cache_stays_bounded() {
        let cache = GraphCache::default();
        let failed = cache.get_or_compute(1, &request(0), || async { Err(ApiError::Telemetry("down".into())) }).await;
        assert!(failed.is_err());
        let ok = cache.get_or_compute(1, &request(0), || async { Ok(empty_graph()) }).await;
        assert!(ok.is_ok(), "the next request tries again");
        for at in 0..(3 * MAX_GRAPHS as i64) {
            cache.get_or_compute(1, &request(at), || async { Ok(empty_graph()) }).await.expect("graph");
        }
        let kept = cache.inner.lock().expect("lock").entries.len();
        assert_eq!(kept, MAX_GRAPHS);
    }

    #[tokio::test]
    async fn a_computation_nobody_waits_for_is_dropped() {
        let cache = Arc::new(GraphCache::default());
        let (started, dropped) = (Arc::new(tokio::sync::Notify::new()), Arc::new(AtomicUsize::new(0)));
        /// Counts its drops: the computation's future holds one.
        struct Dropped(Arc<AtomicUsize>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let (waiting, counter, signal) = (cache.clone(), dropped.clone(), started.clone());
        let asker = tokio::spawn(async move {
            waiting
                .get_or_compute(1, &request(0), || async move {
                    let _held = Dropped(counter);
                    signal.notify_one();
                    std::future::pending::<()>().await;
                    Ok(empty_graph())
                })
                .await
        });
        started.notified().await;
        assert_eq!(dropped.load(Ordering::SeqCst), 0);
        asker.abort();
        let _ = asker.await;
        assert_eq!(dropped.load(Ordering::SeqCst), 1, "the client left: the computation was dropped");
        // The next request computes afresh.
        let again = cache.get_or_compute(1, &request(0), || async { Ok(empty_graph()) }).await;
        assert!(again.is_ok());
    }
}
