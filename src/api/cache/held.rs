//! What the cache holds: values by key within a bound in bytes, the least recently
//! used let go first. A map and an ordered index of last uses, a few dozen lines:
//! the cache holds tens of entries, not millions, and a crate would bring more than
//! this.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// Values and their sizes in bytes, within `bound` bytes in all.
pub struct Held<K, V> {
    bound: usize,
    bytes: usize,
    entries: HashMap<K, Entry<V>>,
    /// Each key by its last use, oldest first.
    by_use: BTreeMap<u64, K>,
    uses: u64,
}

struct Entry<V> {
    value: V,
    size: usize,
    used: u64,
}

impl<K: Clone + Eq + Hash, V> Held<K, V> {
    /// Nothing held yet; with `bound` 0 nothing ever is.
    pub fn new(bound: usize) -> Self {
        Self {
            bound,
            bytes: 0,
            entries: HashMap::new(),
            by_use: BTreeMap::new(),
            uses: 0,
        }
    }

    /// The bytes held now.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The value of `key`, which counts as its use.
    pub fn get(&mut self, key: &K) -> Option<&V> {
        self.uses += 1;
        let entry = self.entries.get_mut(key)?;
        let key = self
            .by_use
            .remove(&entry.used)
            .expect("every entry is in the index of uses");
        self.by_use.insert(self.uses, key);
        entry.used = self.uses;
        Some(&entry.value)
    }

    /// Holds `value` for `key` in place of what it held, letting go of the least
    /// recently used until the rest fits. A value bigger than the bound is not held
    /// (nor is what `key` held before).
    pub fn put(&mut self, key: K, value: V, size: usize) {
        self.remove(&key);
        if size > self.bound {
            return;
        }
        while self.bytes + size > self.bound {
            let (_, oldest) = self
                .by_use
                .pop_first()
                .expect("what does not fit is held by something");
            let entry = self.entries.remove(&oldest).expect("indexed means held");
            self.bytes -= entry.size;
        }
        self.uses += 1;
        self.by_use.insert(self.uses, key.clone());
        self.entries.insert(
            key,
            Entry {
                value,
                size,
                used: self.uses,
            },
        );
        self.bytes += size;
    }

    fn remove(&mut self, key: &K) {
        if let Some(entry) = self.entries.remove(key) {
            self.by_use.remove(&entry.used);
            self.bytes -= entry.size;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Held;

    #[test]
    fn the_least_recently_used_goes_first_and_the_bound_holds() {
        let mut held = Held::new(10);
        held.put("a", 1, 4);
        held.put("b", 2, 4);
        assert_eq!(
            held.get(&"a").copied(),
            Some(1),
            "a is now the most recently used"
        );
        held.put("c", 3, 4);
        assert_eq!(
            held.get(&"b").copied(),
            None,
            "b was the least recently used"
        );
        assert_eq!(
            (held.get(&"a").copied(), held.get(&"c").copied()),
            (Some(1), Some(3))
        );
        assert_eq!(held.bytes(), 8);
        held.put("d", 4, 10);
        assert_eq!(
            (held.get(&"a").copied(), held.get(&"c").copied()),
            (None, None)
        );
        assert_eq!((held.get(&"d").copied(), held.bytes()), (Some(4), 10));
    }

    #[test]
    fn a_value_replaces_its_keys_and_one_bigger_than_the_bound_is_not_held() {
        let mut held = Held::new(10);
        held.put("a", 1, 6);
        held.put("a", 2, 6);
        assert_eq!((held.get(&"a").copied(), held.bytes()), (Some(2), 6));
        held.put("b", 3, 2);
        held.put("a", 4, 11);
        assert_eq!(
            held.get(&"a").copied(),
            None,
            "neither the big value nor the old one"
        );
        assert_eq!((held.get(&"b").copied(), held.bytes()), (Some(3), 2));
        let mut off = Held::new(0);
        off.put("a", 1, 1);
        assert_eq!((off.get(&"a").copied(), off.bytes()), (None, 0));
    }
}
