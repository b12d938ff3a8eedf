"""Hostile material for the spec fuzzer: numbers, text, paths, tags, nesting, alias bombs, raw characters.

Each function draws one value from a seeded `random.Random`; `spec_fuzz.py` puts them into specs.
"""

from __future__ import annotations

import random


def _digits(rng: random.Random, n: int, alphabet: str = "0123456789") -> str:
    return rng.choice(alphabet[1:]) + "".join(rng.choice(alphabet) for _ in range(n - 1))


def _number(rng: random.Random) -> str:
    return rng.choice(
        [
            lambda: _digits(rng, rng.randint(4290, 6000)),
            lambda: "-" + _digits(rng, rng.randint(4300, 5000)),
            lambda: "0x" + _digits(rng, rng.randint(1000, 5000), "0123456789abcdef"),
            lambda: "0b" + _digits(rng, rng.randint(14000, 20000), "01"),
            lambda: ":".join(str(rng.randint(0, 59)) for _ in range(rng.randint(2, 1500))),
            lambda: "1" + "0" * rng.randint(300, 400) + ".0",
            lambda: rng.choice([".nan", ".NaN", ".inf", "-.Inf", "+.INF", "1.0e400", "-1.0e999", "1e3"]),
            lambda: rng.choice(["0", "-1", "1_000", "99999999999999999999", "0o777", "190:20:30.15", "3.14"]),
        ]
    )()


def _text(rng: random.Random) -> str:
    n = rng.choice([255, 256, 257, 2499, 2500, 2501, 5000, 100_000])
    return rng.choice(
        [
            lambda: "x" * n,
            lambda: '"' + "\\0" * rng.randint(1, 3) + 'abc"',
            lambda: '"a' + rng.choice(["\\0", "\\x07", "\\x1b[31m", "\\x7f", "\\x85", "\\u0080", "\\e"]) + 'b"',
            lambda: '"' + rng.choice(["\\ud800", "\\udfff", "\\U0010FFFF", "\\U00110000", "\\uFFFE"]) + '"',
            lambda: rng.choice(["\u202etxt.py", "tr\u0430in", "\u200b", "e\u0301\u0301\u0301", "\U0001f600" * 50]),
            lambda: rng.choice(["\ufb01le", "\uff54rain", "a\u2028b", "a\u2029b", "'\ufeff'", "\u00a0x"]),
            lambda: "'" + "${" * rng.randint(1, 2000) + "'",
            lambda: rng.choice(["${env:ORCHESTRATOR_FUZZ_UNSET}", "${env:HOME}", "'${steps.nope.outputs.x}'"]),
            lambda: rng.choice(["'${steps.train.outputs.model}'", "'${steps.train.outputs.nope}'", "'${}'"]),
            lambda: "'" + "\\" * rng.randint(1, 100) + "'",
            lambda: rng.choice(["", "''", '""', "~", "null", "yes", "no", "on", "off", "-", "?", "@", "`", "%"]),
            lambda: rng.choice(["|", ">", "|-\n  x", "=", "<<", "&a", "*a", "*undefined", "!", "!!", "---", "..."]),
        ]
    )()


def _path(rng: random.Random) -> str:
    return rng.choice(
        [
            lambda: "a" * rng.randint(250, 300) + ".py",
            lambda: "/".join(["d" * rng.randint(100, 255)] * rng.randint(17, 40)) + "/x.py",
            lambda: "./" * rng.randint(1000, 3000) + "train.py",
            lambda: "é" * rng.randint(128, 200) + ".py",
            lambda: rng.choice(["../" * 40 + "etc/passwd", "/etc/passwd", "web/../../x", "~/x", "C:\\x.py"]),
            lambda: rng.choice(["file:///etc/passwd", "http://x/y", "s3://", "s3://b/" + "k" * 2000, "."]),
            lambda: rng.choice(["data", "web", "models", "nope/", "train.py:fn", "x.py:", ":fn", ".orchestrator"]),
        ]
    )()


def _tagged(rng: random.Random) -> str:
    return rng.choice(
        [
            "!!python/name:os.system ''",
            "!!python/object/apply:os.system ['true']",
            "!!python/object:__main__.X {}",
            "!custom x",
            "!custom {a: 1}",
            "!<tag:example.com,2000:x> y",
            "!!binary aGVsbG8=",
            "!!binary '!!!'",
            "!!set {a, b}",
            "!!omap [a: 1, b: 2]",
            "!!pairs [a: 1]",
            "!!timestamp 2001-12-14",
            "!!timestamp soon",
            "!!int abc",
            "!!int 0x" + "f" * 3000,
            "!!float x",
            "!!bool maybe",
            "!!null x",
            "!!str {a: 1}",
            "!!str [1]",
            "!!seq {a: 1}",
            "!!map [1]",
            "!!merge x",
            "!!value x",
            "2024-01-01",
            "2001-12-14t21:59:43.10-05:00",
            "2002-12-14 21:59:43.10 -5",
        ]
    )


def _nested(rng: random.Random) -> str:
    depth = rng.choice([10, 63, 64, 65, 100, 999, 1000, 1001, 5000])
    return rng.choice(
        [
            lambda: "[" * depth + "]" * depth,
            lambda: "{a: " * depth + "1" + "}" * depth,
            lambda: "[" * depth,
            lambda: "[" + "1, " * rng.randint(10_000, 200_000) + "1]",
        ]
    )()


def alias_bomb(rng: random.Random) -> str:
    width, depth = rng.randint(2, 12), rng.randint(2, 12)
    lines = [f"x0: &x0 [{', '.join(['lol'] * width)}]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * width)}]" for i in range(1, depth)]
    return rng.choice(
        [
            lambda: "\n".join(lines),
            lambda: "a: &a [*a, *a]",
            lambda: "a: &a {b: *a}",
            lambda: "a: &a\n  b: &b [*a, *b]",
            lambda: "a: &a 1\nb: [*a, *a, *a]",
            lambda: "a: &a [1]\n<<: *a",
            lambda: "a: *nope",
            lambda: "a: &a [&a [*a]]",
        ]
    )()


def value(rng: random.Random) -> str:
    return rng.choice([_number, _text, _path, _tagged, _nested, _tagged, _text])(rng)


def edge(rng: random.Random) -> str:
    """Values at the edge of what is valid, for fields that take free text or numbers."""
    return rng.choice(
        [
            lambda: "x" * rng.choice([255, 256, 2498, 2500]),
            lambda: _digits(rng, rng.choice([20, 300, 2400])),
            lambda: rng.choice(["'2024-01-01'", "'='", "'<<'", "'.nan'", "'~'", "'yes'", "'${env:X:-}'", "''"]),
            lambda: rng.choice(['"a\\tb"', '"a\\nb"', '"\u00e9t\u00e9"', "‮rtl", "😀", "日本語"]),
            lambda: rng.choice(["1.0e308", "-0.0", "0.000001", "-1", "0", "true", "null", "1_000_000"]),
            lambda: "'" + "$" * rng.randint(1, 300) + "{}'",
        ]
    )()


def key(rng: random.Random) -> str:
    return rng.choice(
        [
            lambda: "k" * rng.choice([40, 41, 256, 257, 300, 5000]),
            lambda: rng.choice(['"a\\0"', '"\\x07"', "? [a, b]", "? {a: 1}", "<<", "1", "~", ".nan", "2024-01-01"]),
            lambda: rng.choice(["!!binary aGk=", "!custom k", "!!python/name:os.system", "yes", "=", "stpes"]),
            lambda: rng.choice(["type", "name", "steps", "state", "version", "target", "hyperparameters", "routes"]),
            lambda: rng.choice(["train", "deploy", "api", "site", "\u202ekey", "k\u0301", "日本語"]),
        ]
    )()


RAW = [
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x7f",
    "\x85",
    "\x9f",
    "\ufeff",
    "\ufffe",
    "\u2028",
    "\u202e",
    "\t",
    "\r",
    "\r\n",
    "\x80",
    "'",
    '"',
    "{",
    "}",
    "[",
    "]",
    ":",
    "#",
    "&",
    "*",
    "!",
    "|",
    ">",
    "%",
    "@",
    "`",
    "- ",
    "? ",
]
