//! Tree addressing and the compact range used to append leaves.
//!
//! A node is named by its level (0 = leaves) and its index within that level:
//! node (L, N) is the root of the complete subtree over leaves
//! [N·2^L, (N+1)·2^L). Only complete subtrees are ever stored, so a stored
//! node never changes once written: the log is append-only down to its nodes.
use crate::hash::{Hash, node_hash};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    pub fn new(level: u8, index: u64) -> NodeId {
        NodeId { level, index }
    }

    /// Number of leaves under this node.
    pub fn width(&self) -> u64 {
        1u64 << self.level
    }

    /// First leaf under this node.
    pub fn first_leaf(&self) -> u64 {
        self.index << self.level
    }
}

impl NodeId {
    /// Whether a store keeps this node: only the tile levels (8, 16, …) are
    /// kept, as tlog-tiles serves them; level 0 is the hash of the leaf entry
    /// and every other node is computed from the tile level below it.
    pub fn is_stored(&self) -> bool {
        self.level > 0 && self.level.is_multiple_of(crate::tile::TILE_HEIGHT)
    }

    /// The nodes this one is computed from: the complete run at the nearest
    /// tile level at or below it (itself when it is at a tile level).
    pub fn base(&self) -> BaseRange {
        let level = self.level - self.level % crate::tile::TILE_HEIGHT;
        let span = 1u64 << (self.level - level);
        BaseRange {
            level,
            first: self.index * span,
            count: span,
        }
    }
}

/// A run of `count` nodes at tile level `level`, from index `first`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseRange {
    pub level: u8,
    pub first: u64,
    pub count: u64,
}

/// The root of the complete subtree over `hashes` (a power-of-two count of
/// sibling nodes, left to right); `None` for any other count.
pub fn subtree_root(hashes: &[Hash]) -> Option<Hash> {
    if !hashes.len().is_power_of_two() {
        return None;
    }
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|pair| node_hash(&pair[0], &pair[1]))
            .collect();
    }
    level.first().copied()
}

/// Splits the leaf range [lo, hi) into the fewest complete, aligned subtrees,
/// left to right. For a range that is a node of the RFC 6962 tree over [0, n)
/// (every range a proof needs), folding these hashes from the right yields
/// exactly MTH(D[lo:hi]).
pub fn range_decomposition(lo: u64, hi: u64) -> Vec<NodeId> {
    let mut ids = Vec::new();
    let mut start = lo;
    while start < hi {
        // The largest aligned power-of-two block starting at `start` that fits.
        let align = if start == 0 {
            63
        } else {
            start.trailing_zeros()
        };
        let fit = 63 - (hi - start).leading_zeros();
        let level = align.min(fit);
        ids.push(NodeId::new(level as u8, start >> level));
        start += 1u64 << level;
    }
    ids
}

/// Folds decomposition hashes (left to right) into the hash of their range.
pub(crate) fn fold_right(hashes: &[Hash]) -> Option<Hash> {
    let (last, rest) = hashes.split_last()?;
    Some(
        rest.iter()
            .rev()
            .fold(*last, |acc, left| node_hash(left, &acc)),
    )
}

/// The right edge of a tree: the roots of the complete subtrees that make up
/// [0, size). It is all one needs to append leaves and to compute the root.
#[derive(Clone, Debug, Default)]
pub struct CompactRange {
    size: u64,
    /// Subtree roots, left (largest) to right (smallest).
    nodes: Vec<(NodeId, Hash)>,
}

impl CompactRange {
    pub fn new() -> CompactRange {
        CompactRange::default()
    }

    /// Rebuilds the range of a tree of `size` leaves from the hashes of
    /// `range_decomposition(0, size)`, in that order.
    pub fn from_parts(size: u64, hashes: &[Hash]) -> Option<CompactRange> {
        let ids = range_decomposition(0, size);
        if ids.len() != hashes.len() {
            return None;
        }
        Some(CompactRange {
            size,
            nodes: ids.into_iter().zip(hashes.iter().copied()).collect(),
        })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The hashes [`CompactRange::from_parts`] takes back, concatenated.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.nodes.iter().flat_map(|(_, hash)| hash.0).collect()
    }

    /// The inverse of [`CompactRange::to_bytes`] for a tree of `size` leaves.
    pub fn from_bytes(size: u64, bytes: &[u8]) -> Option<CompactRange> {
        if !bytes.len().is_multiple_of(32) {
            return None;
        }
        let hashes: Vec<Hash> = bytes
            .chunks_exact(32)
            .filter_map(Hash::from_slice)
            .collect();
        CompactRange::from_parts(size, &hashes)
    }

    /// Appends one leaf hash; returns every node that became complete, the leaf
    /// itself first (these are the nodes storage must write).
    pub fn push(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let mut created = Vec::with_capacity(2);
        let mut current = (NodeId::new(0, self.size), leaf);
        created.push(current);
        while current.0.index & 1 == 1 {
            let Some((left_id, left_hash)) = self.nodes.pop() else {
                break;
            };
            let parent = NodeId::new(current.0.level + 1, current.0.index >> 1);
            debug_assert_eq!(left_id, NodeId::new(current.0.level, current.0.index - 1));
            current = (parent, node_hash(&left_hash, &current.1));
            created.push(current);
        }
        self.nodes.push(current);
        self.size += 1;
        created
    }

    /// MTH(D[0:size]).
    pub fn root(&self) -> Hash {
        let hashes: Vec<Hash> = self.nodes.iter().map(|(_, h)| *h).collect();
        fold_right(&hashes).unwrap_or_else(Hash::empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    #[test]
    fn every_node_is_computed_from_its_tile_level() {
        let leaves: Vec<Hash> = (0..1024u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        // Every node the compact range completes, by id.
        let mut range = CompactRange::new();
        let mut nodes = std::collections::HashMap::new();
        for leaf in &leaves {
            nodes.extend(range.push(*leaf));
        }
        let stored: Vec<&NodeId> = nodes.keys().filter(|id| id.is_stored()).collect();
        assert_eq!(stored.len(), 4, "level 8 only: {stored:?}");
        for (id, hash) in &nodes {
            let base = id.base();
            let first = usize::try_from(base.first).unwrap();
            let count = usize::try_from(base.count).unwrap();
            let inputs: Vec<Hash> = if base.level == 0 {
                leaves[first..first + count].to_vec()
            } else {
                (base.first..base.first + base.count)
                    .map(|i| nodes[&NodeId::new(base.level, i)])
                    .collect()
            };
            assert_eq!(subtree_root(&inputs), Some(*hash), "{id:?}");
        }
        assert_eq!(subtree_root(&leaves[..3]), None);
        let restored = CompactRange::from_bytes(range.size(), &range.to_bytes()).unwrap();
        assert_eq!(restored.root(), range.root());
        assert!(CompactRange::from_bytes(range.size() + 1, &range.to_bytes()).is_none());
        assert_eq!(
            NodeId::new(9, 3).base(),
            BaseRange {
                level: 8,
                first: 6,
                count: 2
            }
        );
    }

    #[test]
    fn decomposition_examples() {
        assert_eq!(
            range_decomposition(0, 7),
            vec![NodeId::new(2, 0), NodeId::new(1, 2), NodeId::new(0, 6)]
        );
        assert_eq!(range_decomposition(4, 8), vec![NodeId::new(2, 1)]);
        assert_eq!(range_decomposition(0, 0), vec![]);
        assert_eq!(range_decomposition(6, 7), vec![NodeId::new(0, 6)]);
    }

    #[test]
    fn push_reports_completed_nodes() {
        let mut range = CompactRange::new();
        let l: Vec<Hash> = (0..4u8).map(|i| leaf_hash(&[i])).collect();
        assert_eq!(range.push(l[0]).len(), 1);
        let created = range.push(l[1]);
        assert_eq!(created.len(), 2);
        assert_eq!(created[1].0, NodeId::new(1, 0));
        range.push(l[2]);
        let created = range.push(l[3]);
        assert_eq!(created.last().map(|c| c.0), Some(NodeId::new(2, 0)));
        assert_eq!(range.root(), created[2].1);
    }
}
