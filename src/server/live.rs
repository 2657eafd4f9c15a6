//! The world of a watched cluster, kept current by what changed: each namespace's workloads (identity, revisions,
//! roles) are derived from that namespace's objects alone, so a change re-derives only the namespaces it touched;
//! the others' workloads are reused as they are.

use std::collections::BTreeMap;

use crate::identity::IdentityIndex;
use crate::inventory::live::LiveObjects;

use super::world::World;

pub struct LiveWorld {
    objects: LiveObjects,
    /// Each namespace's workloads, as of its last change.
    indexes: BTreeMap<String, IdentityIndex>,
}

impl LiveWorld {
    pub fn new(objects: LiveObjects) -> LiveWorld {
        LiveWorld { objects, indexes: BTreeMap::new() }
    }

    pub fn objects_mut(&mut self) -> &mut LiveObjects {
        &mut self.objects
    }

    /// The world after the changes applied since the last call.
    pub fn world(&mut self) -> World {
        for namespace in self.objects.take_changed() {
            match self.objects.namespace_inventory(&namespace) {
                Some(inventory) => self.indexes.insert(namespace, IdentityIndex::build(&inventory)),
                None => self.indexes.remove(&namespace),
            };
        }
        let inventory = self.objects.inventory();
        let index = IdentityIndex::merge(&inventory, self.indexes.values());
        World { inventory, index, generation: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::LiveWorld;
    use crate::inventory::Inventory;
    use crate::inventory::live::LiveObjects;
    use crate::k8s::Kind;
    use crate::k8s::live::{Change, Watched};
    use crate::k8s::object::{Decoded, Object, decode};
    use crate::server::World;
    use crate::sim::{Scenario, SimOptions};
    use clap::ValueEnum;
    use serde_json::Value;

    /// A watched cluster serving `objects`, every kind listed everywhere, each kind its own collection.
    fn watched(objects: &[Value]) -> (LiveWorld, Vec<Kind>) {
        let kinds: Vec<Kind> = Kind::ALL.to_vec();
        let watched = Watched { collections: kinds.iter().map(|&k| (k, None)).collect(), notes: Vec::new() };
        let mut live = LiveObjects::new("Kubernetes", &watched);
        for c in 0..kinds.len() {
            live.apply(Change::Relisting(c)).unwrap();
        }
        for o in objects {
            live.apply(Change::Applied(collection(&kinds, o), object(o))).unwrap();
        }
        for c in 0..kinds.len() {
            live.apply(Change::Listed(c)).unwrap();
        }
        assert!(live.ready());
        (LiveWorld::new(live), kinds)
    }

    fn object(o: &Value) -> Object {
        match decode(o.clone()).unwrap() {
            Decoded::Object(object) => object,
            other => panic!("{other:?}"),
        }
    }

    fn collection(kinds: &[Kind], o: &Value) -> usize {
        let kind = Kind::recognise(o["apiVersion"].as_str().unwrap(), o["kind"].as_str().unwrap()).unwrap();
        kinds.iter().position(|&k| k == kind).unwrap()
    }

    /// What a world shows, to compare a world kept current with one built from scratch.
    fn shown(world: &World) -> String {
        format!("{:?}\n{:?}\n{}", world.index.workloads(), world.index.namespaces(), world.inventory.len())
    }

    fn from_scratch(objects: &[Value]) -> World {
        World::new(Inventory::of_values("Kubernetes", objects.to_vec()))
    }

    #[test]
    fn a_world_kept_by_namespace_is_the_world_built_from_scratch() {
        for &scenario in Scenario::value_variants() {
            let mut objects = crate::sim::build(&SimOptions { scale: 40, ..SimOptions::new(scenario) }).objects;
            let (mut live, kinds) = watched(&objects);
            assert_eq!(shown(&live.world()), shown(&from_scratch(&objects)), "{scenario:?}");

            // A pod goes, another changes its labels: only their namespaces are re-derived.
            let pods: Vec<usize> = (0..objects.len()).filter(|&i| objects[i]["kind"] == "Pod").collect();
            let (gone, relabelled) = (objects.remove(pods[0]), pods[1] - 1);
            let meta = &gone["metadata"];
            let change = Change::Deleted(
                collection(&kinds, &gone),
                meta["namespace"].as_str().unwrap().into(),
                meta["name"].as_str().unwrap().into(),
            );
            live.objects_mut().apply(change).unwrap();
            objects[relabelled]["metadata"]["labels"]["service.istio.io/workload-name"] = "renamed".into();
            let c = collection(&kinds, &objects[relabelled]);
            live.objects_mut().apply(Change::Applied(c, object(&objects[relabelled]))).unwrap();
            let changed = live.objects_mut().changed().len();
            assert!((1..=2).contains(&changed), "{scenario:?}: {changed} namespaces to re-derive");
            assert_eq!(shown(&live.world()), shown(&from_scratch(&objects)), "{scenario:?} after changes");
        }
    }
}
