"""Side-by-side detection benchmark: coordination-network-toolkit 1.5.2 and
`vigil detect --compat toolkit` on the same seeded synthetic posts, in the
same run. For every network the edge lists are compared (they must be
identical) and the wall times reported with their ratio.

The toolkit needs a preprocessing step (CSV into its SQLite database) before
any network; Vigil reads the CSV on every run. The ratio counts the toolkit's
preprocessing once per network, as a user computing one network pays it; the
ratio of the toolkit's network step alone against Vigil's whole run is shown
beside it.

Vigil's time is the median of `--repeat` runs (5 by default; its peak
memory the largest): on a shared two-core machine a single run of a few
seconds varies by a third. The toolkit runs once (minutes per network). A
toolkit run killed at the timeout is reported as a bound: the ratio is at
least (preprocessing + timeout) / Vigil.

Usage: python detect_vs_toolkit.py VIGIL_BINARY WORK_DIR [--posts 1000000]
           [--toolkit-timeout 300] [--skip-toolkit-heavy] [--repeat 5]
"""
import argparse
import csv
import filecmp
import os
import sqlite3
import subprocess
import sys
import time

# (profile, network, window seconds, minimum edge weight)
RUNS = [
    ("light", "co_retweet", 60, 2),
    ("light", "co_reply", 60, 2),
    ("light", "co_tweet", 60, 2),
    ("light", "co_link", 60, 2),
    ("light", "co_post", 60, 2),
    ("light", "co_similar_tweet", 60, 2),
    ("light", "co_similar_tweet", 600, 2),
    ("medium", "co_retweet", 60, 2),
    ("medium", "co_reply", 60, 2),
    ("medium", "co_tweet", 60, 2),
    ("medium", "co_link", 60, 2),
    ("heavy", "co_retweet", 60, 2),
    ("heavy", "co_reply", 60, 2),
    ("heavy", "co_tweet", 60, 2),
    ("heavy", "co_link", 60, 2),
    ("heavy", "co_post", 60, 2),
]
SEEDS = {"light": 101, "medium": 102, "heavy": 103}
# Runs of `--external` (sorting on disk, bounded memory), compared with the
# in-memory run of the same network above.
EXTERNAL = [("light", "co_retweet", 60, 2), ("light", "co_similar_tweet", 600, 2), ("medium", "co_retweet", 60, 2)]


def timed(cmd, timeout=None):
    """Runs cmd under /usr/bin/time; returns (seconds, peak resident MiB, finished).
    (rusage from os.wait4 would not do: a forked child inherits the parent's
    peak, and this script holds large edge lists.)"""
    started = time.monotonic()
    proc = subprocess.Popen(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        subprocess.run(["pkill", "-f", cmd[1]], check=False)
        proc.communicate()
        return time.monotonic() - started, None, False
    seconds = time.monotonic() - started
    lines = err.decode(errors="replace").strip().splitlines()
    if proc.returncode != 0 or not lines:
        sys.exit(f"{cmd[0]} failed: {err.decode(errors='replace')[-2000:]}")
    return seconds, int(lines[-1]) / 1024, True


def same_file(a, b):
    return filecmp.cmp(a, b, shallow=False)


def toolkit_edges(db, kind):
    con = sqlite3.connect(db)
    rows = sorted((str(a), str(b), int(w)) for a, b, w in con.execute(f"select user_1, user_2, weight from {kind}_network"))
    con.close()
    return rows


def vigil_edges(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        return sorted((a, b, int(w)) for a, b, w, _ in reader)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("vigil")
    parser.add_argument("work")
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--toolkit-timeout", type=float, default=300)
    parser.add_argument("--profiles", default="light,medium,heavy", help="profiles to run, comma-separated")
    parser.add_argument("--repeat", type=int, default=5, help="Vigil runs per network (the median is reported)")
    parser.add_argument("--skip-toolkit-heavy", action="store_true",
                        help="run Vigil alone on the heavy profile (the toolkit needs minutes per network there)")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    data, preprocess = {}, {}
    rows = []
    failures = 0
    wanted = set(args.profiles.split(","))
    for profile, kind, window, min_weight in RUNS:
        if profile not in wanted:
            continue
        if profile not in data:
            path = os.path.join(args.work, f"{profile}.csv")
            subprocess.run([args.vigil, "detect", "synth", "--profile", profile, "--posts", str(args.posts),
                            "--seed", str(SEEDS[profile]), "--output", path], check=True)
            data[profile] = path
        path = data[profile]
        with_toolkit = not (profile == "heavy" and args.skip_toolkit_heavy)
        db = path + ".db"
        if with_toolkit and profile not in preprocess:
            if os.path.exists(db):
                os.remove(db)
            seconds, _, _ = timed(["compute_networks", db, "preprocess", "--format", "csv", path])
            preprocess[profile] = seconds
            print(f"toolkit preprocess {profile}: {seconds:.1f} s", flush=True)
        out = os.path.join(args.work, f"vigil-{profile}-{kind}-{window}.csv")
        runs = [timed([args.vigil, "detect", path, "--compat", "toolkit", "--network", kind,
                       "--time-window", str(window), "--min-edge-weight", str(min_weight),
                       "--include-self-loops", "--output", out, "--quiet"]) for _ in range(max(1, args.repeat))]
        v_seconds = sorted(r[0] for r in runs)[len(runs) // 2]
        v_mib = max(r[1] for r in runs)
        with open(out, "rb") as f:
            edge_count = sum(1 for _ in f) - 1
        row = {"profile": profile, "kind": kind, "window": window, "edges": edge_count,
               "vigil": v_seconds, "vigil_mib": v_mib, "toolkit": None, "same": None,
               "timeout": args.toolkit_timeout}
        if with_toolkit:
            t_seconds, _, finished = timed(["compute_networks", db, "compute", kind, "--time_window", str(window),
                                            "--min_edge_weight", str(min_weight), "--n_cpus", "2"],
                                           timeout=args.toolkit_timeout)
            row["toolkit"] = t_seconds if finished else None
            row["killed"] = not finished
            if finished:
                row["same"] = toolkit_edges(db, kind) == vigil_edges(out)
                failures += not row["same"]
        rows.append(row)
        print(line(row, preprocess), flush=True)

    external_rows = []
    for profile, kind, window, min_weight in EXTERNAL:
        if profile not in wanted:
            continue
        out = os.path.join(args.work, "vigil-external.csv")
        seconds, mib, _ = timed([args.vigil, "detect", data[profile], "--compat", "toolkit", "--network", kind,
                                 "--time-window", str(window), "--min-edge-weight", str(min_weight),
                                 "--include-self-loops", "--output", out, "--quiet", "--external", "--memory", "512"])
        reference = next(r for r in rows if (r["profile"], r["kind"], r["window"]) == (profile, kind, window))
        same = same_file(out, os.path.join(args.work, f"vigil-{profile}-{kind}-{window}.csv"))
        failures += not same
        external_rows.append((profile, kind, window, seconds, mib, reference, same))
        print(f"external {profile} {kind} w={window}: {seconds:.2f} s, {mib:.0f} MiB "
              f"(in memory {reference['vigil']:.2f} s, {reference['vigil_mib']:.0f} MiB), {'identical' if same else 'DIFFERENT'}", flush=True)

    print()
    print(f"| profile ({args.posts:,} posts) | network | window | edges | toolkit preprocess + network | Vigil | ratio | network step alone / Vigil | Vigil peak memory | same edges |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(table_row(row, preprocess))
    print()
    print("| profile | network | window | `--external --memory 512` | peak memory | in memory | peak memory | same edges |")
    print("|---|---|---|---|---|---|---|---|")
    for profile, kind, window, seconds, mib, ref, same in external_rows:
        print(f"| {profile} | {kind} | {window} s | {seconds:.2f} s | {mib:,.0f} MiB | {ref['vigil']:.2f} s | {ref['vigil_mib']:,.0f} MiB | {'yes' if same else '**no**'} |")
    if failures:
        print(f"{failures} edge lists differ")
    sys.exit(1 if failures else 0)


def line(row, preprocess):
    t = row["toolkit"]
    text = f"{row['profile']} {row['kind']} w={row['window']}: {row['edges']} edges, vigil {row['vigil']:.2f} s ({row['vigil_mib']:.0f} MiB peak)"
    if t is not None:
        total = preprocess[row["profile"]] + t
        text += f", toolkit {t:.1f} s + {preprocess[row['profile']]:.1f} s preprocess = {total / row['vigil']:.0f}x, {'identical' if row['same'] else 'DIFFERENT'}"
    elif row.get("killed"):
        bound = (preprocess[row["profile"]] + row["timeout"]) / row["vigil"]
        text += f", toolkit killed at the timeout ({row['timeout']:.0f} s): more than {bound:.0f}x"
    return text


def table_row(row, preprocess):
    t = row["toolkit"]
    pre = preprocess.get(row["profile"])
    if t is not None:
        toolkit = f"{pre:.1f} + {t:.1f} s"
        ratio = f"{(pre + t) / row['vigil']:.0f}×"
        alone = f"{t / row['vigil']:.0f}×"
        same = "yes" if row["same"] else "**no**"
    elif row.get("killed"):
        toolkit = f"{pre:.1f} + more than {row['timeout']:.0f} s (killed)"
        ratio = f"> {(pre + row['timeout']) / row['vigil']:.0f}×"
        alone = f"> {row['timeout'] / row['vigil']:.0f}×"
        same = "–"
    else:
        toolkit, ratio, alone, same = "not run", "–", "–", "–"
    return (f"| {row['profile']} | {row['kind']} | {row['window']} s | {row['edges']:,} | {toolkit} | {row['vigil']:.2f} s | "
            f"{ratio} | {alone} | {row['vigil_mib']:,.0f} MiB | {same} |")


if __name__ == "__main__":
    main()
