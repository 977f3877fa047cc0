//! Inclusion and consistency proofs (RFC 9162 §2.1.3 and §2.1.4).
//!
//! Producing a proof is split in two so that storage stays outside: a plan
//! names the tree nodes it needs ([`InclusionPlan::node_ids`]); the caller
//! fetches them and calls `assemble` with a lookup.
use crate::hash::{Hash, node_hash};
use crate::tree::{NodeId, fold_right, range_decomposition};
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProofError {
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("cannot prove consistency from size {old} to the smaller size {new}")]
    SizesOutOfOrder { old: u64, new: u64 },
    #[error("tree node level {} index {} is missing from storage", .0.level, .0.index)]
    MissingNode(NodeId),
}

/// Largest power of two strictly smaller than `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The subtree ranges [lo, hi) whose hashes make up a proof, in proof order.
#[derive(Clone, Debug)]
struct RangePlan {
    ranges: Vec<(u64, u64)>,
}

impl RangePlan {
    fn node_ids(&self) -> Vec<NodeId> {
        self.ranges
            .iter()
            .flat_map(|&(lo, hi)| range_decomposition(lo, hi))
            .collect()
    }

    fn assemble(&self, lookup: impl Fn(NodeId) -> Option<Hash>) -> Result<Vec<Hash>, ProofError> {
        self.ranges
            .iter()
            .map(|&(lo, hi)| {
                let hashes = range_decomposition(lo, hi)
                    .into_iter()
                    .map(|id| lookup(id).ok_or(ProofError::MissingNode(id)))
                    .collect::<Result<Vec<_>, _>>()?;
                fold_right(&hashes).ok_or(ProofError::MissingNode(NodeId::new(0, lo)))
            })
            .collect()
    }
}

/// What an inclusion proof for leaf `index` in a tree of `size` leaves needs.
#[derive(Clone, Debug)]
pub struct InclusionPlan(RangePlan);

impl InclusionPlan {
    pub fn new(index: u64, size: u64) -> Result<InclusionPlan, ProofError> {
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let mut ranges = Vec::new();
        inclusion_ranges(index, 0, size, &mut ranges);
        Ok(InclusionPlan(RangePlan { ranges }))
    }

    pub fn node_ids(&self) -> Vec<NodeId> {
        self.0.node_ids()
    }

    pub fn assemble(
        &self,
        lookup: impl Fn(NodeId) -> Option<Hash>,
    ) -> Result<Vec<Hash>, ProofError> {
        self.0.assemble(lookup)
    }
}

/// PATH(m, D[lo:hi]) of RFC 9162 §2.1.3.1, as ranges.
fn inclusion_ranges(m: u64, lo: u64, hi: u64, out: &mut Vec<(u64, u64)>) {
    let n = hi - lo;
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    if m - lo < k {
        inclusion_ranges(m, lo, lo + k, out);
        out.push((lo + k, hi));
    } else {
        inclusion_ranges(m, lo + k, hi, out);
        out.push((lo, lo + k));
    }
}

/// What a consistency proof between sizes `old` and `new` needs.
#[derive(Clone, Debug)]
pub struct ConsistencyPlan(RangePlan);

impl ConsistencyPlan {
    pub fn new(old: u64, new: u64) -> Result<ConsistencyPlan, ProofError> {
        if old > new {
            return Err(ProofError::SizesOutOfOrder { old, new });
        }
        let mut ranges = Vec::new();
        if old > 0 && old < new {
            consistency_ranges(old, 0, new, true, &mut ranges);
        }
        Ok(ConsistencyPlan(RangePlan { ranges }))
    }

    pub fn node_ids(&self) -> Vec<NodeId> {
        self.0.node_ids()
    }

    pub fn assemble(
        &self,
        lookup: impl Fn(NodeId) -> Option<Hash>,
    ) -> Result<Vec<Hash>, ProofError> {
        self.0.assemble(lookup)
    }
}

/// SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1, as ranges; `m` counts from `lo`.
fn consistency_ranges(m: u64, lo: u64, hi: u64, whole_old_tree: bool, out: &mut Vec<(u64, u64)>) {
    let n = hi - lo;
    if m == n {
        if !whole_old_tree {
            out.push((lo, hi));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        consistency_ranges(m, lo, lo + k, whole_old_tree, out);
        out.push((lo + k, hi));
    } else {
        consistency_ranges(m - k, lo + k, hi, false, out);
        out.push((lo, lo + k));
    }
}

/// Checks that `leaf` is at `index` in the tree of `size` leaves with `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && r == *root
}

/// Checks that the tree of size `old` with root `old_root` is a prefix of the
/// tree of size `new` with root `new_root` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        return proof.is_empty();
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut f_n, mut s_n) = (old - 1, new - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (*first, *first);
    for c in rest {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && f_r == *old_root && s_r == *new_root
}
