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
