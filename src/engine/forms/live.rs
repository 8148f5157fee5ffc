//! A temporal term's live state, counted: the bytes its windows, gaps, chains, obligations and
//! recent events hold, as the limits on live state count them (docs/security.md, "Live
//! state").
//!
//! Why bytes and not entries: what a state holds is mostly events, and an event can be a few
//! hundred bytes or tens of megabytes (a 1 MiB line of one-entry objects parses into 65 MB), so
//! a count of entries would bound nothing unless each were weighed. Why a count and not the
//! allocator's figure: the count decides when a term is suspended, so it must be the same on
//! every run, and it must be charged to the term that holds the memory, not to whichever
//! allocated it.
//!
//! Each form keeps its count as it goes, adding what it takes and taking back what it lets go
//! (reading it costs nothing): an event at its footprint ([`Event::footprint`], an upper
//! bound), and each entry at a fixed amount that covers the structure filing it at its worst,
//! computed here from the types' sizes — a hash table's slot at its lowest load while the table
//! it doubled from is still allocated, a deque's buffer at the moment it doubles, a B-tree
//! node at its emptiest. Each form spells, beside its structures, the types its amounts are
//! computed from. An event held by two terms, or twice by one, is counted each time: the count
//! is a bound, not a measure.

use crate::event::Event;
pub(crate) use crate::event::footprint::{block, block_with_text};

/// A reference count's block holding a text, without the text (counted by its length).
pub(crate) const SHARED_TEXT: u64 = block_with_text(crate::event::footprint::RC_COUNTS);

/// One entry of a hash table of `(K, V)` at its worst: its slot and control byte, in a table
/// 7/16 full just after doubling (hashbrown's most is 7/8), while the table it doubled from is
/// still allocated: 24/7 slots an entry.
pub(crate) const fn table_entry<K, V>() -> u64 {
    (size_of::<(K, V)>() as u64 + 1) * 24 / 7
}

/// One element of a vector or a deque at its worst: at the moment it doubles, the old buffer
/// and the new one twice its length, three slots an element.
pub(crate) const fn deque_element<T>() -> u64 {
    3 * size_of::<T>() as u64
}

/// One entry of a B-tree map (std's) at its worst: in an internal node (11 keys and values,
/// 12 children) holding 5 entries, the fewest a node but the root holds.
pub(crate) const fn btree_entry<K, V>() -> u64 {
    block(8 + 11 * (size_of::<K>() + size_of::<V>()) + 4 + 12 * size_of::<usize>()) / 5
}

/// A deque's smallest buffer (four elements), which a deque holding one event has.
pub(crate) const fn smallest_deque<T>() -> u64 {
    block(4 * size_of::<T>())
}

/// A reference to an event in a window or a chain's step: its slot in the deque (with the
/// position filed beside it in a chain).
const REFERENCE: u64 = {
    let window = deque_element::<std::rc::Rc<Event>>();
    let step = deque_element::<(u64, std::rc::Rc<Event>)>();
    if window > step { window } else { step }
};

/// An event held once more, in a window, a chain's step or a gap.
pub(crate) fn event(event: &Event) -> u64 {
    REFERENCE + event.footprint()
}

/// A key filed at `filing`, with its text.
pub(crate) fn key(key: &str, filing: u64) -> u64 {
    filing + key.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The amounts cover what the allocator takes: checked on the sizes this build has.
    #[test]
    fn amounts_cover_the_allocator() {
        // A text of any length in a shared block: counts, text, header, rounding.
        for len in [0, 1, 7, 8, 9, 23, 24, 100, 1000] {
            assert!(block(16 + len) <= SHARED_TEXT + len as u64, "{len}");
        }
        assert_eq!(block(1), 32, "the smallest block");
        assert_eq!(block(24), 32);
        assert_eq!(block(25), 48);
    }
}
