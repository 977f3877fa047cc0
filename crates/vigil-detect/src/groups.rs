//! Groups of coordinated accounts: the connected components of a network
//! taken as undirected, self-loops aside.

use serde::Serialize;

use crate::dataset::AccountIx;
use crate::network::Edge;

/// One group of accounts linked by edges.
#[derive(Clone, Debug, Serialize)]
pub struct Group {
    /// 1 for the largest group, then by decreasing size and weight.
    pub number: usize,
    pub accounts: Vec<AccountIx>,
    /// Indices of the group's edges in the network's edge list.
    pub edges: Vec<usize>,
    pub total_weight: u64,
    /// Directed edges present over directed pairs possible.
    pub density: f64,
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let up = parent[parent[x as usize] as usize];
        parent[x as usize] = up;
        x = up;
    }
    x
}

/// The groups of `edges` over `accounts` accounts, largest first.
pub fn groups(accounts: usize, edges: &[Edge]) -> Vec<Group> {
    let mut parent: Vec<u32> = (0..accounts as u32).collect();
    for e in edges.iter().filter(|e| !e.is_loop()) {
        let (a, b) = (find(&mut parent, e.source), find(&mut parent, e.target));
        if a != b {
            parent[a.max(b) as usize] = a.min(b);
        }
    }
    let mut by_root: rustc_hash::FxHashMap<u32, Group> = rustc_hash::FxHashMap::default();
    for (i, e) in edges.iter().enumerate().filter(|(_, e)| !e.is_loop()) {
        let root = find(&mut parent, e.source);
        let group = by_root.entry(root).or_insert_with(|| Group {
            number: 0,
            accounts: Vec::new(),
            edges: Vec::new(),
            total_weight: 0,
            density: 0.0,
        });
        group.edges.push(i);
        group.total_weight += u64::from(e.weight);
        group.accounts.push(e.source);
        group.accounts.push(e.target);
    }
    let mut list: Vec<Group> = by_root.into_values().collect();
    for g in &mut list {
        g.accounts.sort_unstable();
        g.accounts.dedup();
        let n = g.accounts.len() as f64;
        g.density = g.edges.len() as f64 / (n * (n - 1.0));
    }
    list.sort_by(|a, b| {
        b.accounts
            .len()
            .cmp(&a.accounts.len())
            .then(b.total_weight.cmp(&a.total_weight))
            .then(a.accounts.first().cmp(&b.accounts.first()))
    });
    for (i, g) in list.iter_mut().enumerate() {
        g.number = i + 1;
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_ignore_loops_and_direction() {
        let edges = [
            Edge {
                source: 0,
                target: 1,
                weight: 3,
            },
            Edge {
                source: 2,
                target: 1,
                weight: 2,
            },
            Edge {
                source: 3,
                target: 3,
                weight: 9,
            },
            Edge {
                source: 4,
                target: 5,
                weight: 2,
            },
        ];
        let g = groups(6, &edges);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].accounts, vec![0, 1, 2]);
        assert_eq!(g[0].total_weight, 5);
        assert_eq!(g[1].accounts, vec![4, 5]);
        assert!((g[1].density - 0.5).abs() < 1e-12);
    }
}
