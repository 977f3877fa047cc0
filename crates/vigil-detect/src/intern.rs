//! Strings stored end to end, and interned to dense indices.
//!
//! Interning is most of the cost of taking rows in: a million message ids,
//! a million account lookups. A lookup is a few dependent cache misses
//! (the table's slot, then the string it points to), and one lookup after
//! another leaves the memory idle while each waits. [`Interner::intern_each`]
//! therefore looks up a block of names at a time, stage by stage: the
//! slots of the whole block are loaded together, then their strings, then
//! the names are taken in order. The result is the one of interning the
//! names one by one.

/// Marks "no string" where an index is expected.
pub(crate) const NONE: u32 = u32::MAX;

/// Strings stored end to end in one buffer: no allocation per string.
#[derive(Default, Debug)]
pub(crate) struct Strings {
    text: String,
    /// Start of each string in `text`; the next start (or the end) ends it.
    starts: Vec<usize>,
}

impl Strings {
    pub(crate) fn push(&mut self, s: &str) -> u32 {
        let ix = u32::try_from(self.starts.len()).unwrap_or(NONE - 1);
        self.starts.push(self.text.len());
        self.text.push_str(s);
        ix
    }
    pub(crate) fn get(&self, ix: u32) -> &str {
        self.text.get(self.span(ix)).unwrap_or("")
    }
    /// The bytes of string `ix`: comparing them skips the checks of
    /// character boundaries that slicing the text makes.
    fn bytes(&self, ix: u32) -> &[u8] {
        self.text.as_bytes().get(self.span(ix)).unwrap_or(&[])
    }
    fn span(&self, ix: u32) -> std::ops::Range<usize> {
        let ix = ix as usize;
        let Some(&start) = self.starts.get(ix) else {
            return 0..0;
        };
        let end = self.starts.get(ix + 1).copied().unwrap_or(self.text.len());
        start..end
    }
    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.starts.clear();
    }
    /// Room for as many more strings as `like` holds, `scale` times over.
    pub(crate) fn reserve_like(&mut self, like: &Strings, scale: f64) {
        self.starts.reserve((like.len() as f64 * scale) as usize);
        self.text.reserve((like.text.len() as f64 * scale) as usize);
    }
}

/// Strings interned to dense indices, in the order they first come. The
/// table is open addressing with linear probing, at most half full; a
/// slot is 32 bits of the string's hash and its index (8 bytes: a million
/// strings miss the cache half as often as with the whole hash, and
/// growing the table does not hash the strings again).
#[derive(Debug)]
pub struct Interner {
    slots: Vec<u64>,
    strings: Strings,
}

/// An empty slot (no string has index `NONE`).
const EMPTY: u64 = u64::MAX;
/// Names looked up together by `intern_each`: enough misses in flight to
/// keep the memory busy, few enough to stay in registers and L1.
const BLOCK: usize = 16;
const MIN_SLOTS: usize = 16;

impl Default for Interner {
    fn default() -> Self {
        Self {
            slots: vec![EMPTY; MIN_SLOTS],
            strings: Strings::default(),
        }
    }
}

pub(crate) fn hash_of(name: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(name)
}

fn short_hash(name: &str) -> u32 {
    let hash = hash_of(name);
    (hash ^ (hash >> 32)) as u32
}

fn slot_of(short: u32, ix: u32) -> u64 {
    (u64::from(short) << 32) | u64::from(ix)
}

fn short_of(slot: u64) -> u32 {
    (slot >> 32) as u32
}

fn ix_of(slot: u64) -> u32 {
    slot as u32
}

impl Interner {
    pub fn intern(&mut self, name: &str) -> u32 {
        self.intern_new(name).0
    }

    /// The index of `name`, and whether it was new.
    pub fn intern_new(&mut self, name: &str) -> (u32, bool) {
        self.intern_hashed(name, short_hash(name))
    }

    /// Interns each name in order (None: nothing to intern, reported as
    /// None) and reports its index and whether it was new, exactly as
    /// [`Interner::intern_new`] name by name, with the lookups of a block
    /// of names overlapped (see the module's comment).
    pub fn intern_each<'n>(
        &mut self,
        names: impl IntoIterator<Item = Option<&'n str>>,
        mut each: impl FnMut(Option<(u32, bool)>),
    ) {
        let mut names = names.into_iter().peekable();
        while names.peek().is_some() {
            let mut block: [Option<&str>; BLOCK] = [None; BLOCK];
            let mut len = 0;
            for (slot, name) in block.iter_mut().zip(names.by_ref()) {
                *slot = name;
                len += 1;
            }
            let block = &block[..len];
            let mut shorts = [0u32; BLOCK];
            for (short, name) in shorts.iter_mut().zip(block) {
                *short = name.map_or(0, short_hash);
            }
            let found = self.find_block(block, &shorts);
            for ((name, &short), found) in block.iter().zip(&shorts).zip(found) {
                each(name.map(|name| match found {
                    Some(ix) => (ix, false),
                    None => self.intern_hashed(name, short),
                }));
            }
        }
    }

    /// The names of a block found at their home slot, stage by stage so
    /// that the loads of a stage do not wait on each other. A name not
    /// found here may still be in the table (further along its probe, or
    /// earlier in the block): the caller interns it one by one.
    fn find_block(&self, block: &[Option<&str>], shorts: &[u32; BLOCK]) -> [Option<u32>; BLOCK] {
        let mut home = [EMPTY; BLOCK];
        for (slot, &short) in home.iter_mut().zip(shorts).take(block.len()) {
            *slot = self.slots[self.home(short)];
        }
        let mut spans = [const { None }; BLOCK];
        for ((span, &slot), &short) in spans.iter_mut().zip(&home).zip(shorts) {
            if slot != EMPTY && short_of(slot) == short {
                *span = Some(self.strings.span(ix_of(slot)));
            }
        }
        let mut found = [None; BLOCK];
        let text = self.strings.text.as_bytes();
        for (((found, span), name), slot) in found.iter_mut().zip(spans).zip(block).zip(home) {
            if let (Some(name), Some(span)) = (name, span)
                && text.get(span) == Some(name.as_bytes())
            {
                *found = Some(ix_of(slot));
            }
        }
        found
    }

    fn home(&self, short: u32) -> usize {
        // The multiplication spreads the hash into the high bits, which
        // pick the slot.
        let spread = u64::from(short).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let bits = self.slots.len().trailing_zeros();
        (spread >> (64 - bits)) as usize
    }

    /// Where `name` is: Ok(its index), or Err(the empty slot it would
    /// take).
    fn probe(&self, name: &str, short: u32) -> Result<u32, usize> {
        let mask = self.slots.len() - 1;
        let mut at = self.home(short);
        loop {
            let slot = self.slots[at];
            if slot == EMPTY {
                return Err(at);
            }
            if short_of(slot) == short && self.strings.bytes(ix_of(slot)) == name.as_bytes() {
                return Ok(ix_of(slot));
            }
            at = (at + 1) & mask;
        }
    }

    fn intern_hashed(&mut self, name: &str, short: u32) -> (u32, bool) {
        let at = match self.probe(name, short) {
            Ok(ix) => return (ix, false),
            Err(at) => at,
        };
        let ix = self.strings.push(name);
        self.slots[at] = slot_of(short, ix);
        if self.strings.len() * 2 > self.slots.len() {
            self.grow_to(self.strings.len());
        }
        (ix, true)
    }

    pub fn get(&self, name: &str) -> Option<u32> {
        self.probe(name, short_hash(name)).ok()
    }

    pub fn name(&self, ix: u32) -> &str {
        self.strings.get(ix)
    }

    /// A table of at least `strings * 2` slots (a power of two), the
    /// strings placed again from their short hashes.
    fn grow_to(&mut self, strings: usize) {
        let wanted = (strings.max(1) * 2).next_power_of_two().max(MIN_SLOTS);
        if wanted <= self.slots.len() {
            return;
        }
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; wanted]);
        let mask = wanted - 1;
        for slot in old.into_iter().filter(|&s| s != EMPTY) {
            let mut at = self.home(short_of(slot));
            while self.slots[at] != EMPTY {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
    }

    /// Room for as many new names as `like` holds, `scale` times over.
    pub(crate) fn reserve_like(&mut self, like: &Strings, scale: f64) {
        let more = (like.len() as f64 * scale) as usize;
        self.grow_to(self.strings.len() + more);
        self.strings.reserve_like(like, scale);
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names with repeats near and far, colliding short hashes forced by a
    /// tiny table, and an empty name.
    fn names() -> Vec<String> {
        let mut names = Vec::new();
        for i in 0..5_000u32 {
            names.push(format!("u{}", (i * 7_919) % 1_237));
            if i % 3 == 0 {
                names.push(format!("u{}", i % 17));
            }
            if i % 101 == 0 {
                names.push(String::new());
            }
        }
        names
    }

    #[test]
    fn interning_a_block_at_a_time_is_interning_one_by_one() {
        let names = names();
        let mut one_by_one = Interner::default();
        let expected: Vec<Option<(u32, bool)>> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (i % 5 != 4).then(|| one_by_one.intern_new(n)))
            .collect();
        let mut blocks = Interner::default();
        let mut got = Vec::new();
        blocks.intern_each(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (i % 5 != 4).then_some(n.as_str())),
            |r| got.push(r),
        );
        assert_eq!(got, expected);
        assert!(got.iter().flatten().any(|&(_, new)| !new));
        assert_eq!(blocks.len(), one_by_one.len());
        for ix in 0..blocks.len() as u32 {
            assert_eq!(blocks.name(ix), one_by_one.name(ix));
            assert_eq!(blocks.get(blocks.name(ix)), Some(ix));
        }
        assert_eq!(blocks.get("nobody"), None);
    }

    #[test]
    fn names_of_the_same_short_hash_are_told_apart() {
        // Two names whose 32-bit hashes collide (a birthday search: about
        // 80,000 names), so that they share a home slot and a tag.
        let mut seen = std::collections::HashMap::new();
        let (a, b) = (0u32..)
            .find_map(|i| {
                let name = format!("c{i}");
                seen.insert(short_hash(&name), name.clone())
                    .map(|other| (other, name))
            })
            .unwrap();
        let mut interner = Interner::default();
        assert_eq!(interner.intern_new(&a), (0, true));
        let mut got = Vec::new();
        interner.intern_each([Some(b.as_str()), Some(a.as_str())], |r| got.push(r));
        assert_eq!(got, [Some((1, true)), Some((0, false))]);
        assert_eq!((interner.get(&a), interner.get(&b)), (Some(0), Some(1)));
    }

    #[test]
    fn a_reserved_table_finds_what_was_interned_before() {
        let mut interner = Interner::default();
        let first: Vec<u32> = (0..100)
            .map(|i| interner.intern(&format!("m{i}")))
            .collect();
        let mut like = Strings::default();
        for i in 0..1_000 {
            like.push(&format!("x{i}"));
        }
        interner.reserve_like(&like, 3.0);
        assert!(interner.slots.len() >= 2 * 3_100);
        for (i, ix) in first.into_iter().enumerate() {
            assert_eq!(interner.intern_new(&format!("m{i}")), (ix, false));
        }
    }
}
