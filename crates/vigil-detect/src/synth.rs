//! Seeded synthetic social-media data with planted coordinated groups,
//! where the right answer is known. The shape follows the profiles used to
//! measure the reference tools: a 30-day span, one account per 20 posts,
//! 55% reposts, 25% original texts, 10% replies, 10% copy-paste templates,
//! 30% of non-reposts with a URL; twenty planted groups of 15 accounts, each
//! doing bursts within 30 seconds that cycle repost / same text and URL /
//! reply to the same post. Profiles differ in how skewed popularity is and
//! how fast reposts follow the original.

use crate::dataset::Post;

/// Popularity and reshare-delay profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Popularity ∝ rank^-0.8, reposts within about 6 hours.
    Light,
    /// Popularity ∝ rank^-1.0, reposts within about 2 hours.
    Medium,
    /// Zipf 1.3, reposts within about 1 hour: viral posts, hundreds of
    /// millions of candidate pairs at one million posts.
    Heavy,
}

impl Profile {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "light" => Some(Profile::Light),
            "medium" => Some(Profile::Medium),
            "heavy" => Some(Profile::Heavy),
            _ => None,
        }
    }
    fn skew(self) -> f64 {
        match self {
            Profile::Light => 0.8,
            Profile::Medium => 1.0,
            Profile::Heavy => 1.3,
        }
    }
    fn delay(self) -> f64 {
        match self {
            Profile::Light => 6.0 * 3600.0,
            Profile::Medium => 2.0 * 3600.0,
            Profile::Heavy => 3600.0,
        }
    }
}

/// SplitMix64: small, fast, and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        ((self.unit() * n as f64) as usize).min(n.saturating_sub(1))
    }
}

/// Samples ranks 0..n with probability ∝ (rank+1)^-s.
struct Popularity {
    cumulative: Vec<f64>,
}

impl Popularity {
    fn new(n: usize, s: f64) -> Self {
        let mut total = 0.0;
        let cumulative = (1..=n.max(1))
            .map(|r| {
                total += (r as f64).powf(-s);
                total
            })
            .collect();
        Self { cumulative }
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.unit() * total;
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.cumulative.len() - 1)
    }
}

const SYLLABLES: &[&str] = &[
    "vo", "te", "wahl", "el", "ec", "tion", "ka", "ndi", "dat", "pro", "pa", "gan", "da", "ré",
    "sul", "tat", "ri", "ga", "ne", "lo", "mi", "stra", "ßen", "ção", "év", "ια", "ко", "ри",
    "sto", "par", "ty", "news", "fake", "real", "brux", "eu",
];

fn word(rng: &mut Rng, rank: usize) -> String {
    let mut r = Rng::new(rank as u64 * 7919 + 17);
    let n = 1 + r.below(3);
    let mut w: String = (0..n)
        .map(|_| SYLLABLES[r.below(SYLLABLES.len())])
        .collect();
    if rng.unit() < 0.03 {
        w.insert(0, '#');
    }
    w
}

fn sentence(rng: &mut Rng, words: &Popularity) -> String {
    let n = 6 + rng.below(14);
    let mut parts: Vec<String> = (0..n)
        .map(|_| {
            let rank = words.sample(rng);
            word(rng, rank)
        })
        .collect();
    if rng.unit() < 0.2 {
        parts.insert(0, format!("@user{}", rng.below(5000)));
    }
    if rng.unit() < 0.3 {
        parts.push(["!", "?", "…", "👍", "🇪🇺", "it's"][rng.below(6)].to_owned());
    }
    parts.join(" ")
}

/// The generated posts and the planted groups (account ids).
pub struct Synthetic {
    pub posts: Vec<Post>,
    pub planted: Vec<Vec<String>>,
}

/// Start of the synthetic period: 2026-05-01T00:00:00Z.
pub const EPOCH: f64 = 1_777_593_600.0;
const SPAN: f64 = 30.0 * 86_400.0;

/// Generates about `posts` posts (planted bursts included), sorted by time.
pub fn generate(profile: Profile, posts: usize, seed: u64) -> Synthetic {
    let mut rng = Rng::new(seed);
    let accounts = (posts / 20).max(60);
    let sources = (posts / 5).max(20);
    let popularity = Popularity::new(sources, profile.skew());
    let url_popularity = Popularity::new((posts / 10).max(10), 1.0);
    let words = Popularity::new(5000, 1.0);
    let source_time: Vec<f64> = (0..sources).map(|_| rng.unit() * SPAN).collect();
    let templates: Vec<String> = (0..200).map(|_| sentence(&mut rng, &words)).collect();
    let groups = 20usize;
    let members = 15usize;
    let bursts = (posts / (groups * members * 20)).clamp(3, 50);
    let planted_posts = groups * members * bursts;
    let background = posts.saturating_sub(planted_posts);
    let mut out = Vec::with_capacity(posts + 16);
    let mut next_id = 0u64;
    let mut push = |out: &mut Vec<Post>,
                    account: String,
                    time: f64,
                    kind: (Option<String>, Option<String>),
                    text: String,
                    urls: Vec<String>| {
        next_id += 1;
        out.push(Post {
            message_id: format!("m{next_id}"),
            username: format!("name_{account}"),
            account,
            shared_object: kind.0,
            reply_to: kind.1,
            text,
            time: (EPOCH + time).floor(),
            urls,
        });
    };
    for _ in 0..background {
        let account = format!("u{}", rng.below(accounts));
        let dice = rng.unit();
        if dice < 0.55 {
            let s = popularity.sample(&mut rng);
            let delay = -profile.delay() * (1.0 - rng.unit()).ln();
            let time = (source_time[s] + delay).min(SPAN);
            push(
                &mut out,
                account,
                time,
                (Some(format!("s{s}")), None),
                String::new(),
                Vec::new(),
            );
            continue;
        }
        let time = rng.unit() * SPAN;
        let reply = (0.80..0.90)
            .contains(&dice)
            .then(|| format!("s{}", popularity.sample(&mut rng)));
        let text = if dice >= 0.90 {
            templates[rng.below(templates.len())].clone()
        } else {
            sentence(&mut rng, &words)
        };
        let urls = if rng.unit() < 0.3 {
            vec![format!(
                "https://news.example/{}",
                url_popularity.sample(&mut rng)
            )]
        } else {
            Vec::new()
        };
        push(&mut out, account, time, (None, reply), text, urls);
    }
    let mut planted = Vec::new();
    for g in 0..groups {
        let names: Vec<String> = (0..members).map(|k| format!("p{g}_{k}")).collect();
        for b in 0..bursts {
            let start = rng.unit() * (SPAN - 60.0);
            let text = format!(
                "{} {}",
                templates[rng.below(templates.len())],
                sentence(&mut rng, &words)
            );
            for name in &names {
                let time = start + rng.unit() * 30.0;
                match b % 3 {
                    0 => push(
                        &mut out,
                        name.clone(),
                        time,
                        (Some(format!("g{g}b{b}")), None),
                        String::new(),
                        Vec::new(),
                    ),
                    1 => {
                        // The same text, give or take an ending: similar, not always identical.
                        let ending = ["", "", " !!", " 🇪🇺"][rng.below(4)];
                        push(
                            &mut out,
                            name.clone(),
                            time,
                            (None, None),
                            format!("{text}{ending}"),
                            vec![format!("https://campaign.example/g{g}/{b}")],
                        );
                    }
                    _ => push(
                        &mut out,
                        name.clone(),
                        time,
                        (None, Some(format!("g{g}b{b}"))),
                        sentence(&mut rng, &words),
                        Vec::new(),
                    ),
                }
            }
        }
        planted.push(names);
    }
    out.sort_by(|a, b| a.time.total_cmp(&b.time));
    Synthetic {
        posts: out,
        planted,
    }
}
