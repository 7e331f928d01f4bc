//! The identifiers of the broker's QoS 2 messages handed out and not yet released by PUBREL
//! [MQTT-4.3.3-2]: a PUBLISH carrying one of them is a duplicate, acknowledged again and never
//! handed out twice.
//!
//! MQTT 3.1.1 sets no limit on how many a broker may leave unreleased (Mosquitto frees a
//! window slot at PUBREC and runs ahead), so the default tracks the whole identifier space:
//! one bit per identifier, 8 KiB, never full. A caller short of memory gives a capacity under
//! [`BITMAP_FROM`]: a list of that many identifiers, 2 bytes each. When the list is full,
//! the next new QoS 2 message waits in the receive buffer, unacknowledged, until a PUBREL
//! behind it frees a slot (the receive side's flow control, in `receive.rs`).
//!
//! The identifiers live in a region of the store ([`region_len`] bytes); this type keeps
//! only their count, so that an empty set is never scanned nor cleared (an owned store is
//! zeroed memory whose pages stay untouched until used).

/// From this capacity on, a list would take as much memory as the bitmap: the bitmap it is.
pub(crate) const BITMAP_FROM: u16 = 4_096;
/// The bitmap of every identifier, 1 to 65,535 (bit 0 unused).
const BITMAP_BYTES: usize = 8_192;

/// The bytes of store a capacity takes.
pub(crate) const fn region_len(capacity: u16) -> usize {
    if capacity >= BITMAP_FROM {
        BITMAP_BYTES
    } else {
        2 * capacity as usize
    }
}

/// The set's bookkeeping; its identifiers are in the region passed to each call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unreleased {
    /// Identifiers held.
    count: usize,
    /// A list's slots, or `None` for the bitmap.
    slots: Option<usize>,
}

impl Unreleased {
    pub(crate) const fn new(capacity: u16) -> Self {
        Self {
            count: 0,
            slots: match capacity >= BITMAP_FROM {
                true => None,
                false => Some(capacity as usize),
            },
        }
    }

    /// Whether a new identifier would not fit (never, with the bitmap).
    pub(crate) const fn is_full(&self) -> bool {
        matches!(self.slots, Some(slots) if self.count >= slots)
    }

    pub(crate) fn contains(&self, region: &[u8], id: u16) -> bool {
        match self.slots {
            None => bit(region, id).is_some_and(|(byte, mask)| byte & mask != 0),
            Some(_) => list(region, self.count).any(|held| held == id),
        }
    }

    /// Adds `id`; false if it was already held or the list is full.
    pub(crate) fn insert(&mut self, region: &mut [u8], id: u16) -> bool {
        if self.is_full() || self.contains(region, id) {
            return false;
        }
        let stored = match self.slots {
            None => set_bit(region, id, true),
            Some(_) => match region.get_mut(2 * self.count..2 * self.count + 2) {
                Some(slot) => {
                    slot.copy_from_slice(&id.to_le_bytes());
                    true
                }
                None => false,
            },
        };
        self.count += usize::from(stored);
        stored
    }

    /// Removes `id`; false if it was not held.
    pub(crate) fn remove(&mut self, region: &mut [u8], id: u16) -> bool {
        let position = self
            .slots
            .and_then(|_| list(region, self.count).position(|held| held == id));
        let removed = match self.slots {
            None => self.contains(region, id) && set_bit(region, id, false),
            Some(_) => match position {
                // The last identifier takes the freed slot: the list stays packed.
                Some(at) => {
                    let last = 2 * (self.count - 1);
                    let moved = region
                        .get(last..)
                        .and_then(<[u8]>::first_chunk::<2>)
                        .copied();
                    if let Some(moved) = moved
                        && let Some(slot) = region.get_mut(2 * at..2 * at + 2)
                    {
                        slot.copy_from_slice(&moved);
                    }
                    true
                }
                None => false,
            },
        };
        self.count -= usize::from(removed);
        removed
    }

    /// Forgets every identifier (a new session).
    pub(crate) fn clear(&mut self, region: &mut [u8]) {
        if self.count > 0 {
            if self.slots.is_none() {
                region.fill(0);
            }
            self.count = 0;
        }
    }
}

/// The byte and mask of `id`'s bit.
fn bit(region: &[u8], id: u16) -> Option<(u8, u8)> {
    let byte = *region.get(usize::from(id / 8))?;
    Some((byte, 1 << (id % 8)))
}

fn set_bit(region: &mut [u8], id: u16, on: bool) -> bool {
    let Some(byte) = region.get_mut(usize::from(id / 8)) else {
        return false;
    };
    let mask = 1 << (id % 8);
    match on {
        true => *byte |= mask,
        false => *byte &= !mask,
    }
    true
}

/// The first `count` identifiers of a list.
fn list(region: &[u8], count: usize) -> impl Iterator<Item = u16> + '_ {
    region
        .chunks_exact(2)
        .take(count)
        .filter_map(|slot| slot.first_chunk::<2>())
        .map(|slot| u16::from_le_bytes(*slot))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(capacity: u16) {
        let mut region = std::vec![0u8; region_len(capacity)];
        let mut set = Unreleased::new(capacity);
        let ids: std::vec::Vec<u16> = (1..=capacity.min(5000)).map(|i| i * 13 + 1).collect();
        for &id in &ids {
            assert!(set.insert(&mut region, id), "{id}");
            assert!(!set.insert(&mut region, id), "{id} twice");
        }
        assert_eq!(set.is_full(), capacity < BITMAP_FROM);
        for &id in &ids {
            assert!(set.contains(&region, id));
        }
        assert!(!set.contains(&region, 2));
        for &id in ids.iter().step_by(2) {
            assert!(set.remove(&mut region, id));
            assert!(!set.remove(&mut region, id));
            assert!(!set.contains(&region, id));
        }
        for (n, &id) in ids.iter().enumerate() {
            assert_eq!(set.contains(&region, id), n % 2 == 1, "{id}");
        }
        set.clear(&mut region);
        assert!(ids.iter().all(|&id| !set.contains(&region, id)));
        assert!(!set.is_full());
    }

    #[test]
    fn a_list_holds_its_capacity_and_stays_packed() {
        for capacity in [1, 2, 3, 32, 4_095] {
            check(capacity);
        }
    }

    #[test]
    fn the_bitmap_holds_every_identifier() {
        check(BITMAP_FROM);
        let mut region = std::vec![0u8; region_len(u16::MAX)];
        let mut set = Unreleased::new(u16::MAX);
        assert!((1..=u16::MAX).all(|id| set.insert(&mut region, id)));
        assert!(!set.is_full());
        assert!((1..=u16::MAX).all(|id| set.contains(&region, id)));
    }
}
