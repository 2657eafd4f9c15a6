//! The objects a server shows, with their identities: one world at a time, replaced whole when a live source
//! changes.

use crate::identity::IdentityIndex;
use crate::inventory::Inventory;

/// Objects and their identities, replaced whole when the world changes (a live source swaps in a new one).
pub struct World {
    pub inventory: Inventory,
    pub index: IdentityIndex,
    /// Counts the worlds a server has had: graphs are kept per generation, so a new world starts afresh.
    pub generation: u64,
}

impl World {
    /// No objects: what a server shows before its first world is loaded.
    pub fn empty() -> World {
        World::new(Inventory::new(crate::inventory::DEFAULT_CLUSTER, std::iter::empty()))
    }

    pub fn new(inventory: Inventory) -> World {
        let index = IdentityIndex::build(&inventory);
        World { inventory, index, generation: 0 }
    }
}
