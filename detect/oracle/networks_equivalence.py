"""Equivalence of `vigil detect --compat toolkit` with coordination-network-toolkit
1.5.2: for every dataset and network type, the full edge list (pairs,
weights, directions, self-loops) must be identical.

    python networks_equivalence.py VIGIL_BINARY WORK_DIR DATA_DIR

Datasets: seeded synthetic data with planted groups (light, medium, heavy
profiles), hand-made edge cases, and the two real datasets shipped in
data/coordination (converted to the toolkit's CSV). The toolkit's network is
read straight from its SQLite table (its CLI CSV export crashes, issue #55).
"""
import csv
import gzip
import os
import sqlite3
import subprocess
import sys
import time

TYPES = ["co_retweet", "co_reply", "co_tweet", "co_similar_tweet", "co_link", "co_post"]
HEADER = ["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"]


def edge_cases(path):
    rows = [
        # empty text, mention-only texts (quirk: they co-tweet), no URLs
        ("e1", "a", "A", "", "", "", "100", ""),
        ("e2", "b", "B", "", "", "", "100", ""),
        ("e3", "a", "A", "", "", "@x @y", "101", ""),
        ("e4", "b", "B", "", "", "@z", "101", ""),
        # identical timestamps, same retweet
        ("e5", "a", "A", "r1", "", "RT", "200", ""),
        ("e6", "b", "B", "r1", "", "RT", "200", ""),
        ("e7", "c", "C", "r1", "", "RT", "200", "https://ignored.example/in-repost"),
        # pairs exactly at the window boundary (w = 10) and just outside
        ("e8", "a", "A", "r2", "", "", "300", ""),
        ("e9", "b", "B", "r2", "", "", "310", ""),
        ("e10", "c", "C", "r2", "", "", "310.0001", ""),
        ("e11", "a", "A", "", "q1", "reply one", "400", ""),
        ("e12", "c", "C", "", "q1", "reply two", "390", ""),
        # float timestamps, URL lists with double spaces (quirk: empty URL)
        ("e13", "a", "A", "", "", "Same words here, it's true!", "500.5", "https://x.example/a  https://x.example/b"),
        ("e14", "b", "B", "", "", "same WORDS here it's true", "505.25", "https://x.example/a"),
        ("e15", "c", "C", "", "", "Same words here, it's true!!", "1e3", "https://x.example/a/"),
        # a duplicate message id: the first row wins, its URLs are kept too
        ("e13", "d", "D", "", "", "other", "501", "https://x.example/b"),
        # a single account acting many times
        ("e16", "solo", "S", "r3", "", "", "600", ""),
        ("e17", "solo", "S", "r3", "", "", "601", ""),
        ("e18", "solo", "S", "", "", "alone alone", "602", "https://solo.example"),
        ("e19", "solo", "S", "", "", "alone alone", "603", "https://solo.example"),
        # Unicode case and whitespace
        ("e20", "a", "A", "", "", "İSTANBUL\x1cΣΟΦΟΣ  日本語", "700", ""),
        ("e21", "b", "B", "", "", "i̇stanbul σοφος 日本語", "700", ""),
    ]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)


def russian(src, path):
    with gzip.open(src, "rt", encoding="utf-8") as f, open(path, "w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        w.writerow(HEADER)
        for row in csv.DictReader(f):
            w.writerow([row["content_id"], row["account_id"], "", row["object_id"], "", "", row["timestamp_share"], ""])


def german(src, path, object_column):
    with gzip.open(src, "rt", encoding="utf-8") as f, open(path, "w", newline="", encoding="utf-8") as out:
        w = csv.writer(out)
        w.writerow(HEADER)
        for row in csv.DictReader(f):
            w.writerow([row["post_id"], row["account_id"], "", row[object_column], "", "", row["timestamp"], row["url_id"]])


def toolkit_edges(db, kind, window, min_weight):
    subprocess.run(["compute_networks", db, "compute", kind, "--time_window", str(window), "--min_edge_weight", str(min_weight), "--n_cpus", "2"],
                   check=True, capture_output=True)
    con = sqlite3.connect(db)
    rows = {(str(a), str(b), int(w)) for a, b, w in con.execute(f"select user_1, user_2, weight from {kind}_network")}
    con.close()
    return rows


def vigil_edges(vigil, csv_path, kind, window, min_weight, out, extra=()):
    subprocess.run([vigil, "detect", csv_path, "--compat", "toolkit", "--network", kind, "--time-window", str(window),
                    "--min-edge-weight", str(min_weight), "--include-self-loops", "--output", out, "--quiet", *extra], check=True)
    with open(out, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        return {(a, b, int(w)) for a, b, w, _ in reader}


def main():
    vigil, work, data = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(work, exist_ok=True)
    datasets = []
    for profile, seed in [("light", 11), ("medium", 12), ("heavy", 13)]:
        path = os.path.join(work, f"{profile}.csv")
        subprocess.run([vigil, "detect", "synth", "--profile", profile, "--posts", "20000", "--seed", str(seed), "--output", path], check=True)
        datasets.append((f"synthetic {profile} 20k", path, TYPES, [(60, 2), (600, 1)]))
    edge = os.path.join(work, "edge_cases.csv")
    edge_cases(edge)
    datasets.append(("edge cases", edge, TYPES, [(10, 1), (0, 1)]))
    ru = os.path.join(work, "russian.csv")
    russian(os.path.join(data, "russian_coord_tweets.csv.gz"), ru)
    datasets.append(("real: Russian retweets (35k)", ru, ["co_retweet", "co_post"], [(60, 1), (10, 2)]))
    de = os.path.join(work, "german_hashtags.csv")
    german(os.path.join(data, "german_elections.csv.gz"), de, "hashtag_id")
    datasets.append(("real: German election (219k), hashtag as shared object, URLs", de, ["co_retweet", "co_link"], [(60, 1)]))
    failures = 0
    for name, path, kinds, settings in datasets:
        db = path + ".db"
        if os.path.exists(db):
            os.remove(db)
        t = time.time()
        subprocess.run(["compute_networks", db, "preprocess", "--format", "csv", path], check=True, capture_output=True)
        for kind in kinds:
            for window, min_weight in settings:
                expected = toolkit_edges(db, kind, window, min_weight)
                runs = [("vigil", ())]
                if name.startswith("synthetic medium") or name == "edge cases":
                    # Sorting on disk with a tiny budget: many runs, co-post streamed.
                    runs.append(("vigil --external", ("--external", "--memory", "1")))
                for label, extra in runs:
                    got = vigil_edges(vigil, path, kind, window, min_weight, os.path.join(work, "vigil.csv"), extra)
                    same = expected == got
                    failures += not same
                    loops = sum(1 for a, b, _ in expected if a == b)
                    print(f"{'ok  ' if same else 'FAIL'} {name}: {kind} w={window} min={min_weight}: toolkit {len(expected)} edges ({loops} self-loops), {label} {len(got)}")
                    if not same:
                        print("   only in toolkit:", sorted(expected - got)[:5])
                        print(f"   only in {label}:", sorted(got - expected)[:5])
        print(f"     ({time.time() - t:.1f} s)")
    print("network equivalence:", "all identical" if not failures else f"{failures} differ")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
