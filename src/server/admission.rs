//! Who gets a connection when many want one. Each client (an address; an IPv6 client by its /64, which one host
//! is given) may hold a few of the server's connections, so one address cannot take them all however often it
//! reconnects; and when the server is full, a connection that has not sent a complete request within a moment
//! (a stalled or hostile one: a browser sends its request within milliseconds) is closed to make room, oldest
//! first.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Context;
use std::time::{Duration, Instant};

use futures::task::AtomicWaker;

/// How long a connection may go without a complete request before it is the first to go when the server is full.
pub const EVICTABLE_AFTER: Duration = Duration::from_secs(1);

/// The client a connection counts against: its address, or the /64 of an IPv6 address (an IPv4 address mapped
/// into IPv6 as itself).
pub fn client_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

/// The connections open, by client, and those still waiting for a complete request.
pub struct Admission {
    max_connections: usize,
    per_client: usize,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    open: usize,
    by_client: HashMap<IpAddr, usize>,
    /// Connections without a complete request yet, by order of arrival.
    waiting: BTreeMap<u64, Arc<Slot>>,
    next_id: u64,
}

/// One admitted connection, as the table and the connection both see it.
struct Slot {
    id: u64,
    client: IpAddr,
    accepted: Instant,
    /// A complete request arrived.
    requested: AtomicBool,
    /// Closed to make room: its place is already given back.
    evicted: AtomicBool,
    /// Wakes the connection's reader so that it sees it was evicted.
    reader: AtomicWaker,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("the client holds all the connections it may")]
    ClientFull,
    #[error("every connection is taken by a client that sent a request")]
    ServerFull,
}

impl Admission {
    pub fn new(max_connections: usize, per_client: usize) -> Arc<Admission> {
        Arc::new(Admission { max_connections, per_client, table: Mutex::new(Table::default()) })
    }

    /// Admits a connection from `address`, closing the oldest stalled connection when the server is full.
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Result<Ticket, Refused> {
        let client = client_of(address);
        let mut table = self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if table.by_client.get(&client).is_some_and(|&n| n >= self.per_client) {
            return Err(Refused::ClientFull);
        }
        if table.open >= self.max_connections {
            let stalled = table.waiting.values().next().filter(|s| s.accepted.elapsed() >= EVICTABLE_AFTER).cloned();
            let Some(stalled) = stalled else { return Err(Refused::ServerFull) };
            stalled.evicted.store(true, Ordering::SeqCst);
            table.give_back(&stalled);
            stalled.reader.wake();
        }
        let id = table.next_id;
        table.next_id = id.wrapping_add(1);
        let slot = Arc::new(Slot {
            id,
            client,
            accepted: Instant::now(),
            requested: AtomicBool::new(false),
            evicted: AtomicBool::new(false),
            reader: AtomicWaker::new(),
        });
        table.open = table.open.saturating_add(1);
        *table.by_client.entry(client).or_default() += 1;
        table.waiting.insert(id, slot.clone());
        Ok(Ticket { slot, admission: self.clone() })
    }
}

impl Table {
    fn give_back(&mut self, slot: &Slot) {
        self.open = self.open.saturating_sub(1);
        if let Some(count) = self.by_client.get_mut(&slot.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.by_client.remove(&slot.client);
            }
        }
        self.waiting.remove(&slot.id);
    }
}

/// A connection's place; given back when the connection ends (dropped).
pub struct Ticket {
    slot: Arc<Slot>,
    admission: Arc<Admission>,
}

impl Ticket {
    /// Notes that a complete request arrived: the connection is no longer the first to go.
    pub fn requested(&self) {
        if !self.slot.requested.swap(true, Ordering::SeqCst) {
            let mut table = self.admission.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            table.waiting.remove(&self.slot.id);
        }
    }

    /// Whether the connection was closed to make room; otherwise its reader is woken when it is.
    pub fn poll_evicted(&self, cx: &mut Context<'_>) -> bool {
        self.slot.reader.register(cx.waker());
        self.slot.evicted.load(Ordering::SeqCst)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.slot.evicted.load(Ordering::SeqCst) {
            let mut table = self.admission.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            table.give_back(&self.slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_ipv6_client_is_its_64() {
        assert_eq!(client_of(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_of(ip("2001:db8:1:2:bbbb::9")), client_of(ip("2001:db8:1:2::5")));
        assert_ne!(client_of(ip("2001:db8:1:3::1")), client_of(ip("2001:db8:1:2::1")));
        assert_eq!(client_of(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(client_of(ip("10.1.2.3")), ip("10.1.2.3"));
    }

    #[test]
    fn a_client_holds_its_share_and_a_stalled_connection_makes_room() {
        let admission = Admission::new(3, 2);
        let a = [admission.admit(ip("127.0.0.2")).unwrap(), admission.admit(ip("127.0.0.2")).unwrap()];
        assert_eq!(admission.admit(ip("127.0.0.2")).err(), Some(Refused::ClientFull));
        let b = admission.admit(ip("127.0.0.3")).unwrap();
        b.requested();
        // Full, and nobody has stalled long enough yet.
        assert_eq!(admission.admit(ip("127.0.0.4")).err(), Some(Refused::ServerFull));
        std::thread::sleep(EVICTABLE_AFTER);
        let [stalled, busy] = a;
        busy.requested();
        let c = admission.admit(ip("127.0.0.4")).unwrap();
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(stalled.poll_evicted(&mut cx), "the stalled connection goes");
        assert!(!busy.poll_evicted(&mut cx) && !b.poll_evicted(&mut cx) && !c.poll_evicted(&mut cx));
        // Its place was given back once: dropping it frees nothing more.
        drop(stalled);
        assert_eq!(admission.admit(ip("127.0.0.5")).err(), Some(Refused::ServerFull));
        drop((busy, b, c));
        assert!(admission.admit(ip("127.0.0.2")).is_ok());
    }
}
