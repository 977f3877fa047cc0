//! The tree agrees with an independent RFC 6962 implementation (ct-merkle) on
//! roots and proofs for random sizes, and forged leaves or proofs fail.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test
use ct_merkle::mem_backed_tree::MemoryBackedTree;
use proptest::prelude::*;
use sha2_oracle::Sha256;
use std::collections::HashMap;
use vigil_tlog::{
    CompactRange, ConsistencyPlan, Hash, InclusionPlan, NodeId, leaf_hash, verify_consistency,
    verify_inclusion,
};

/// Our tree as storage would hold it: every completed node by id.
struct Built {
    nodes: HashMap<NodeId, Hash>,
    roots: Vec<Hash>,
}

fn build(leaves: &[Vec<u8>]) -> Built {
    let mut range = CompactRange::new();
    let mut nodes = HashMap::new();
    let mut roots = vec![range.root()];
    for leaf in leaves {
        nodes.extend(range.push(leaf_hash(leaf)));
        roots.push(range.root());
    }
    Built { nodes, roots }
}

fn oracle(leaves: &[Vec<u8>]) -> MemoryBackedTree<Sha256, Vec<u8>> {
    let mut tree = MemoryBackedTree::new();
    for leaf in leaves {
        tree.push(leaf.clone());
    }
    tree
}

fn hashes_from_bytes(bytes: &[u8]) -> Vec<Hash> {
    bytes
        .chunks(32)
        .map(|c| Hash::from_slice(c).unwrap())
        .collect()
}

fn leaves_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
    (1usize..300).prop_map(|n| (0..n).map(|i| format!("leaf {i}").into_bytes()).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn roots_match_oracle(leaves in leaves_strategy()) {
        let ours = build(&leaves);
        let theirs = oracle(&leaves);
        let their_root = theirs.root();
        prop_assert_eq!(ours.roots.last().unwrap().0.as_slice(), their_root.as_bytes().as_slice());
    }

    #[test]
    fn inclusion_proofs_match_oracle(leaves in leaves_strategy(), pick in any::<prop::sample::Index>()) {
        let ours = build(&leaves);
        let theirs = oracle(&leaves);
        let size = leaves.len() as u64;
        let index = pick.index(leaves.len()) as u64;
        let plan = InclusionPlan::new(index, size).unwrap();
        let proof = plan.assemble(|id| ours.nodes.get(&id).copied()).unwrap();
        let expected = hashes_from_bytes(theirs.prove_inclusion(index as usize).as_bytes());
        prop_assert_eq!(&proof, &expected);
        let root = ours.roots[leaves.len()];
        let leaf = leaf_hash(&leaves[index as usize]);
        prop_assert!(verify_inclusion(&leaf, index, size, &proof, &root));
        // A forged leaf, a wrong index or a tampered proof element fails.
        prop_assert!(!verify_inclusion(&leaf_hash(b"forged"), index, size, &proof, &root));
        if size > 1 {
            prop_assert!(!verify_inclusion(&leaf, (index + 1) % size, size, &proof, &root));
            let mut bad = proof.clone();
            bad[0].0[0] ^= 1;
            prop_assert!(!verify_inclusion(&leaf, index, size, &bad, &root));
        }
    }

    #[test]
    fn consistency_proofs_match_oracle(leaves in leaves_strategy(), pick in any::<prop::sample::Index>()) {
        let ours = build(&leaves);
        let theirs = oracle(&leaves);
        let new = leaves.len() as u64;
        let old = pick.index(leaves.len()) as u64 + 1;
        let plan = ConsistencyPlan::new(old, new).unwrap();
        let proof = plan.assemble(|id| ours.nodes.get(&id).copied()).unwrap();
        if old < new {
            let expected = hashes_from_bytes(theirs.prove_consistency((new - old) as usize).as_bytes());
            prop_assert_eq!(&proof, &expected);
        }
        let (old_root, new_root) = (ours.roots[old as usize], ours.roots[new as usize]);
        prop_assert!(verify_consistency(old, new, &old_root, &new_root, &proof));
        if old < new {
            // A different history for the old tree is not consistent.
            prop_assert!(!verify_consistency(old, new, &leaf_hash(b"other"), &new_root, &proof));
            // Every proof between different sizes has elements; tampering one fails.
            prop_assert!(!proof.is_empty());
            let mut bad = proof.clone();
            bad[0].0[5] ^= 0x80;
            prop_assert!(!verify_consistency(old, new, &old_root, &new_root, &bad));
        }
    }
}

#[test]
fn compact_range_round_trips_through_storage() {
    let leaves: Vec<Vec<u8>> = (0..77u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let built = build(&leaves);
    for size in 0..=77u64 {
        let ids = vigil_tlog::range_decomposition(0, size);
        let hashes: Vec<Hash> = ids.iter().map(|id| built.nodes[id]).collect();
        let range = CompactRange::from_parts(size, &hashes).unwrap();
        assert_eq!(range.root(), built.roots[size as usize], "size {size}");
    }
}

#[test]
fn missing_node_is_an_error_not_a_wrong_proof() {
    let plan = InclusionPlan::new(3, 10).unwrap();
    assert!(plan.assemble(|_| None).is_err());
    assert!(InclusionPlan::new(10, 10).is_err());
    assert!(ConsistencyPlan::new(5, 4).is_err());
}
