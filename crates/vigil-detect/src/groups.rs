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
    pub edges: Vec<u32>,
    pub total_weight: u64,
    /// Directed edges present over directed pairs possible.
    pub density: f64,
}

/// No group yet.
const NONE_GROUP: u32 = u32::MAX;

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
    // Each group's slot, by root; its accounts in order, its edges in
    // list order, counted first so that each list is allocated once.
    let mut slot = vec![NONE_GROUP; accounts];
    let mut list: Vec<Group> = Vec::new();
    let mut in_edge = vec![false; accounts];
    for e in edges.iter().filter(|e| !e.is_loop()) {
        for a in [e.source, e.target] {
            if let Some(seen) = in_edge.get_mut(a as usize) {
                *seen = true;
            }
        }
    }
    for account in (0..accounts as u32).filter(|&a| in_edge[a as usize]) {
        let root = find(&mut parent, account) as usize;
        if slot[root] == NONE_GROUP {
            slot[root] = list.len() as u32;
            list.push(Group {
                number: 0,
                accounts: Vec::new(),
                edges: Vec::new(),
                total_weight: 0,
                density: 0.0,
            });
        }
        list[slot[root] as usize].accounts.push(account);
    }
    let group_of = |parent: &mut [u32], e: &Edge| slot[find(parent, e.source) as usize] as usize;
    let mut counts = vec![0usize; list.len()];
    for e in edges.iter().filter(|e| !e.is_loop()) {
        counts[group_of(&mut parent, e)] += 1;
    }
    for (g, n) in list.iter_mut().zip(counts) {
        g.edges.reserve_exact(n);
    }
    for (i, e) in edges.iter().enumerate().filter(|(_, e)| !e.is_loop()) {
        let g = &mut list[group_of(&mut parent, e)];
        g.edges.push(i as u32);
        g.total_weight += u64::from(e.weight);
    }
    for g in &mut list {
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
