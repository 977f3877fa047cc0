#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Network semantics on hand-made cases, planted-group recovery, and
//! CooRTweet's figures on the real Russian retweet data.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};

use vigil_detect::coortweet::{self, CoortweetParams};
use vigil_detect::groups::groups;
use vigil_detect::synth::{self, Profile};
use vigil_detect::{Dataset, Network, NetworkKind, Params, Post, Semantics};

fn post(
    id: &str,
    account: &str,
    object: Option<&str>,
    text: &str,
    time: f64,
    urls: &[&str],
) -> Post {
    Post {
        message_id: id.into(),
        account: account.into(),
        username: String::new(),
        shared_object: object.map(Into::into),
        reply_to: None,
        text: text.into(),
        time,
        urls: urls.iter().map(|u| (*u).to_owned()).collect(),
    }
}

fn edges(
    d: &Dataset,
    kind: NetworkKind,
    window: f64,
    min_weight: u32,
) -> Vec<(String, String, u32)> {
    let n = Network::compute(
        d,
        kind,
        Params {
            window,
            min_weight,
            ..Params::default()
        },
    );
    n.edges
        .iter()
        .map(|e| {
            (
                d.account_id(e.source).to_owned(),
                d.account_id(e.target).to_owned(),
                e.weight,
            )
        })
        .collect()
}

fn e(a: &str, b: &str, w: u32) -> (String, String, u32) {
    (a.into(), b.into(), w)
}

#[test]
fn weights_are_directed_counts_of_distinct_messages_and_the_window_is_inclusive() {
    for semantics in [Semantics::Toolkit, Semantics::Clean] {
        let mut d = Dataset::new(semantics);
        d.push(post("1", "A", Some("x"), "", 100.0, &[])).unwrap();
        for (i, t) in [95.0, 100.0, 110.0].iter().enumerate() {
            d.push(post(&format!("b{i}"), "B", Some("x"), "", *t, &[]))
                .unwrap();
        }
        // Exactly at the boundary (10 s) counts; 10.0001 s does not.
        d.push(post("c", "C", Some("x"), "", 110.0001, &[]))
            .unwrap();
        let got = edges(&d, NetworkKind::CoRetweet, 10.0, 1);
        let loops = semantics == Semantics::Toolkit;
        let mut expected = vec![
            e("A", "B", 1),
            e("B", "A", 3),
            e("B", "C", 1),
            e("C", "B", 1),
        ];
        if loops {
            // 1.5.2: every message matches itself.
            expected.extend([e("A", "A", 1), e("B", "B", 3), e("C", "C", 1)]);
        } else {
            // Vigil: only other messages of the same account count.
            expected.push(e("B", "B", 3));
        }
        expected.sort();
        assert_eq!(got, expected, "{semantics:?}");
    }
}

#[test]
fn toolkit_quirks_are_reproduced_in_its_mode_and_fixed_by_default() {
    let build = |semantics| {
        let mut d = Dataset::new(semantics);
        // No URL from the toolkit's CSV is the empty URL; mention-only texts are empty texts.
        d.push(post("1", "A", None, "@a @b", 0.0, &[""])).unwrap();
        d.push(post("2", "B", None, "@c", 1.0, &[""])).unwrap();
        d
    };
    let toolkit = build(Semantics::Toolkit);
    assert_eq!(edges(&toolkit, NetworkKind::CoLink, 5.0, 1).len(), 4);
    assert_eq!(edges(&toolkit, NetworkKind::CoTweet, 5.0, 1).len(), 4);
    let clean = build(Semantics::Clean);
    assert!(edges(&clean, NetworkKind::CoLink, 5.0, 1).is_empty());
    assert!(edges(&clean, NetworkKind::CoTweet, 5.0, 1).is_empty());
}

#[test]
fn edge_cases_empty_text_identical_times_single_account() {
    let mut d = Dataset::new(Semantics::Clean);
    d.push(post("1", "solo", None, "", 5.0, &[])).unwrap();
    d.push(post("2", "solo", None, "", 5.0, &[])).unwrap();
    assert!(
        edges(&d, NetworkKind::CoTweet, 60.0, 1).is_empty(),
        "empty texts match nothing"
    );
    assert!(edges(&d, NetworkKind::CoSimilarTweet, 60.0, 1).is_empty());
    // One account posting twice at the same second: a self-loop of weight 2, never an edge to anyone else.
    assert_eq!(
        edges(&d, NetworkKind::CoPost, 0.0, 1),
        vec![e("solo", "solo", 2)]
    );
    assert_eq!(
        d.push(post("3", "x", None, "", f64::NAN, &[])),
        Err(vigil_detect::PostError::NonFiniteTime)
    );
    assert_eq!(
        d.push(post("", "x", None, "", 1.0, &[])),
        Err(vigil_detect::PostError::EmptyMessageId)
    );
    assert_eq!(d.posts(), 2, "refused posts change nothing");
}

#[test]
fn similar_text_uses_the_exact_jaccard_threshold() {
    let mut d = Dataset::new(Semantics::Clean);
    // Token sets {a b c d e} and {a b c d f}: Jaccard 4/6 = 0.666…
    d.push(post("1", "A", None, "a b c d e", 0.0, &[])).unwrap();
    d.push(post("2", "B", None, "a b c d f", 1.0, &[])).unwrap();
    let at = |t: f64| {
        Network::compute(
            &d,
            NetworkKind::CoSimilarTweet,
            Params {
                window: 10.0,
                min_weight: 1,
                similarity: t,
                min_tokens: 1.0,
            },
        )
        .edges
        .len()
    };
    assert_eq!(at(4.0 / 6.0), 2);
    assert_eq!(at(0.667), 0);
}

#[test]
fn planted_groups_are_recovered_with_their_evidence() {
    let data = synth::generate(Profile::Medium, 60_000, 7);
    let mut d = Dataset::new(Semantics::Clean);
    for p in data.posts {
        d.push(p).unwrap();
    }
    let planted: Vec<BTreeSet<String>> = data
        .planted
        .iter()
        .map(|g| g.iter().cloned().collect())
        .collect();
    for kind in [
        NetworkKind::CoRetweet,
        NetworkKind::CoLink,
        NetworkKind::CoSimilarTweet,
        NetworkKind::CoReply,
    ] {
        let n = Network::compute(
            &d,
            kind,
            Params {
                window: 60.0,
                min_weight: 3,
                ..Params::default()
            },
        );
        let found: Vec<BTreeSet<String>> = groups(d.accounts(), &n.edges)
            .iter()
            .map(|g| {
                g.accounts
                    .iter()
                    .map(|&a| d.account_id(a).to_owned())
                    .collect()
            })
            .collect();
        for group in &planted {
            assert!(
                found.contains(group),
                "{kind:?}: planted group {group:?} not found as a group"
            );
        }
        // Evidence: every edge between planted accounts is explained by co-actions on one object within the window.
        let edge = n.edges.iter().find(|e| !e.is_loop()).unwrap();
        let evidence = n.evidence(edge, 100);
        assert!(evidence.len() as u32 >= edge.weight);
        for c in &evidence {
            assert_eq!(d.post_account(c.source_post), edge.source);
            assert_eq!(d.post_account(c.target_post), edge.target);
            assert!(c.delta.abs() <= 60.0);
        }
    }
}

#[test]
fn coortweet_reproduces_its_published_network_on_the_russian_retweets() {
    // CooRTweet 2.1.3 on russian_coord_tweets with time_window 60: 3,721 edges over 2,110 accounts
    // (measured by running its R source; ../shared/reference/detection.md §2.3).
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/coordination/russian_coord_tweets.csv.gz"
    );
    let file = std::fs::File::open(path).unwrap();
    let reader = BufReader::new(flate2::read::MultiGzDecoder::new(file));
    let mut d = Dataset::new(Semantics::Clean);
    for (i, line) in reader.lines().enumerate() {
        let line = line.unwrap();
        if i == 0 {
            assert_eq!(line, "object_id,account_id,content_id,timestamp_share");
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        d.push(post(f[2], f[1], Some(f[0]), "", f[3].parse().unwrap(), &[]))
            .unwrap();
    }
    // 40 rows repeat a content id already read (the same retweet twice).
    assert_eq!((d.posts(), d.duplicate_rows), (35_085, 40));
    let n = coortweet::network(
        &d,
        NetworkKind::CoRetweet,
        CoortweetParams {
            window: 60.0,
            min_participation: 2,
            edge_weight: 0.5,
        },
        5,
    );
    assert_eq!(n.all_edges, 3_721);
    assert_eq!(n.all_accounts, 2_110);
    assert!(
        n.edges
            .iter()
            .all(|e| f64::from(e.edge.weight) > n.threshold)
    );
}

#[test]
fn a_network_needs_only_its_own_columns() {
    // Repeated message ids and URL-less posts included (the toolkit's
    // quirks touch links and objects).
    let mut posts = synth::generate(Profile::Light, 30_000, 11).posts;
    let repeats: Vec<Post> = posts.iter().step_by(97).take(200).cloned().collect();
    posts.extend(repeats);
    for semantics in [Semantics::Toolkit, Semantics::Clean] {
        let mut all = Dataset::new(semantics);
        for p in &posts {
            all.push(p).unwrap();
        }
        for kind in NetworkKind::ALL {
            let mut own = Dataset::with_columns(semantics, kind.columns());
            for p in &posts {
                own.push(p).unwrap();
            }
            // Reposts stay reposts; an object not kept is not named (the
            // replied posts share the object table).
            for post in 0..own.posts() as u32 {
                let shared = all.shared_object(post);
                let expected = if kind.columns().objects {
                    shared
                } else {
                    shared.map(|_| "")
                };
                assert_eq!(own.shared_object(post), expected, "{kind:?} post {post}");
            }
            let expected = edges(&all, kind, 600.0, 1);
            assert!(expected.len() > 100, "{kind:?}: {} edges", expected.len());
            assert_eq!(
                edges(&own, kind, 600.0, 1),
                expected,
                "{kind:?} {semantics:?}"
            );
        }
    }
}
