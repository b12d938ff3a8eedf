"""Seeded hostile variations of real specs, and what `validate` and `plan` may answer to them.

Each spec starts from an example pipeline or a corpus case and takes one to three
mutations: a value or key swapped for something hostile (tags, dates, binary, huge
numbers, NaN, long strings and paths, control characters, odd unicode, alias bombs,
deep nesting), raw characters injected, lines cut, doubled or re-indented. Spec `i`
of seed `s` is the same on every machine, so a failure names a spec anyone can rebuild.
Used by the suite's fuzz test (a few hundred specs) and `benchmarks/fuzz_validate.py` (10,000).
"""

from __future__ import annotations

import contextlib
import io
import random
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import fuzz_values as hostile

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FILES = ("pipeline.yaml", "models", "data", "api", "web")


@dataclass(frozen=True)
class Seed:
    spec: Path  # a spec inside a private copy of its folder
    text: str


@dataclass(frozen=True)
class Fuzzed:
    index: int
    seed: Seed
    data: bytes  # what is written to the file: may be invalid UTF-8 on purpose
    mutations: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"#{self.index} {self.seed.spec.parent.name}/{self.seed.spec.name}: {', '.join(self.mutations)}"


def copy_seeds(dest: Path) -> list[Seed]:
    """Private copies of every seed folder (the files specs name must exist), and their specs."""
    folders: list[tuple[str, Path, tuple[str, ...] | None]] = [("root", ROOT, EXAMPLE_FILES)]
    folders += [(p.name, p, None) for p in sorted((ROOT / "examples").iterdir()) if (p / "pipeline.yaml").is_file()]
    folders.append(("corpus", ROOT / "tests" / "corpus", None))
    seeds: list[Seed] = []
    for name, src, only in folders:
        target = dest / name
        if only is None:
            shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__", ".orchestrator"))
        else:
            target.mkdir(parents=True)
            for entry in only:
                if (src / entry).is_dir():
                    shutil.copytree(src / entry, target / entry, ignore=shutil.ignore_patterns("__pycache__"))
                elif (src / entry).is_file():
                    shutil.copy(src / entry, target / entry)
        seeds += [Seed(spec, spec.read_text()) for spec in sorted(target.glob("*.yaml"))]
    return seeds


# -- mutations -------------------------------------------------------------------------------

_KEY_LINE = re.compile(r"^(\s*(?:- )?)([^#\s:'\"{}\[\]][^:#]*?):(\s+)(\S.*)$")
_ITEM_LINE = re.compile(r"^(\s*- )(\S.*)$")
_OPEN_LINE = re.compile(r"^(\s*(?:- )?)([^#\s:'\"][^:#]*?):\s*$")


def _lines(text: str) -> list[str]:
    return text.split("\n")


def replace_value(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    candidates = [i for i, ln in enumerate(lines) if _KEY_LINE.match(ln) or _ITEM_LINE.match(ln)]
    if not candidates:
        return text + "\nextra: " + hostile.value(rng)
    i = rng.choice(candidates)
    m = _KEY_LINE.match(lines[i])
    new = hostile.value(rng)
    if m:
        lines[i] = f"{m.group(1)}{m.group(2)}:{m.group(3)}{new}"
    else:
        m = _ITEM_LINE.match(lines[i])
        lines[i] = f"{m.group(1)}{new}"
    return "\n".join(lines)


_FREE = re.compile(r"^(\s*)([A-Za-z_][\w.-]*):(\s+)(\S.*)$")
_STRUCTURAL = {"type", "framework", "algorithm", "image", "name", "model", "endpoint", "integration", "method",
               "path", "source", "entry_point", "handler", "version", "target", "state", "metric", "regex",
               "inference", "source_dir", "requirements", "stage", "region", "index", "error", "config_file"}  # fmt: skip


def edge_value(rng: random.Random, text: str) -> str:
    """A free-text or number field set to something at the edge of valid: the specs that reach `plan`."""
    lines = _lines(text)
    candidates = [i for i, ln in enumerate(lines) if (m := _FREE.match(ln)) and m.group(2) not in _STRUCTURAL]
    if not candidates:
        return text
    i = rng.choice(candidates)
    m = _FREE.match(lines[i])
    lines[i] = f"{m.group(1)}{m.group(2)}:{m.group(3)}{hostile.edge(rng)}"
    return "\n".join(lines)


def add_entry(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    opens = [i for i, ln in enumerate(lines) if _OPEN_LINE.match(ln) or _KEY_LINE.match(ln)]
    i = rng.choice(opens) if opens else len(lines) - 1
    line = lines[i] if lines else ""
    indent = len(line) - len(line.lstrip(" -"))
    if _OPEN_LINE.match(line):
        indent += 2
    lines.insert(i + 1, " " * indent + f"{hostile.key(rng)}: {hostile.value(rng)}")
    return "\n".join(lines)


def inject_raw(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 3)):
        at = rng.randint(0, len(text))
        text = text[:at] + rng.choice(hostile.RAW) + text[at:]
    return text


def alias_bomb(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    at = rng.choice([0, len(lines)] + [i for i, ln in enumerate(lines) if ln and not ln[0].isspace()])
    lines[at:at] = hostile.alias_bomb(rng).split("\n")
    return "\n".join(lines)


def cut(rng: random.Random, text: str) -> str:
    return text[: rng.randint(0, len(text))]


def shuffle_lines(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    if len(lines) < 2:
        return text
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    how = rng.choice(["delete", "double", "swap", "indent", "dedent", "tab"])
    if how == "delete":
        del lines[i]
    elif how == "double":
        lines.insert(i, lines[i])
    elif how == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif how == "indent":
        lines[i] = " " * rng.randint(1, 3) + lines[i]
    elif how == "dedent":
        lines[i] = lines[i][rng.randint(1, 3) :]
    else:
        lines[i] = "\t" + lines[i].lstrip()
    return "\n".join(lines)


def flip_bytes(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 8)):
        if chars:
            chars[rng.randrange(len(chars))] = chr(rng.randint(32, 126))
    return "".join(chars)


MUTATIONS: tuple[Callable[[random.Random, str], str], ...] = (
    edge_value,
    edge_value,
    edge_value,
    replace_value,
    replace_value,
    replace_value,
    add_entry,
    add_entry,
    inject_raw,
    alias_bomb,
    cut,
    shuffle_lines,
    flip_bytes,
)


def fuzzed(seeds: list[Seed], seed: int, index: int) -> Fuzzed:
    """Spec `index` of fuzz run `seed`: the same bytes on every machine."""
    rng = random.Random(f"{seed}:{index}")
    examples = [s for s in seeds if s.spec.name == "pipeline.yaml"]
    base = rng.choice(examples if examples and rng.random() < 0.7 else seeds)  # mostly valid specs, made hostile
    text, names = base.text, []
    edgy = rng.random() < 0.25  # a quarter stay near valid, so that plan meets what validate passes
    for _ in range(rng.choice([1, 1, 2, 3])):
        mutation = edge_value if edgy else rng.choice(MUTATIONS)
        text = mutation(rng, text)
        names.append(mutation.__name__)
    data = text.encode("utf-8", errors="surrogatepass")
    if rng.random() < 0.01:  # a file that is not UTF-8 at all
        at = rng.randint(0, len(data))
        data = data[:at] + bytes([rng.choice([0x80, 0xC3, 0xFF, 0xED])]) + data[at:]
        names.append("bad_utf8")
    return Fuzzed(index, base, data, tuple(names))


# -- what counts as an answer ----------------------------------------------------------------


_SUMMARY = re.compile(r"^\d+ problems? found in ")


@dataclass(frozen=True)
class Outcome:
    command: str
    code: int
    err: str
    problem: str | None  # None: a proper answer; otherwise why it is a crash


def judge(command: str, file: str, code: int, out: str, err: str) -> Outcome:
    """Exit 0, or exit 2 with every problem located as FILE:LINE:COL; nothing else, and never a traceback."""
    problem = None
    if "Traceback" in err or "internal error" in err:
        problem = "traceback or internal error"
    elif code not in (0, 2):
        problem = f"exit {code}"
    elif code == 2:
        located = re.compile(re.escape(file) + r":\d+:\d+: (error|warning): ")
        firsts = [ln for ln in err.splitlines() if ln and not ln.startswith("  ") and not _SUMMARY.match(ln)]
        if not firsts or not all(located.match(ln) for ln in firsts):
            problem = "refused without FILE:LINE:COL"
    return Outcome(command, code, err, problem)


def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    from orchestrator.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def check(spec: Fuzzed) -> list[Outcome]:
    """Write the spec beside its seed, validate it, and plan it when it is valid."""
    path = spec.seed.spec.with_name(f"fuzz-{spec.index}.yaml")
    path.write_bytes(spec.data)
    try:
        outcomes = [judge("validate", str(path), *run_in_process(["validate", str(path)]))]
        if outcomes[0].code == 0:
            outcomes.append(judge("plan", str(path), *run_in_process(["plan", str(path)])))
            if outcomes[-1].code != 0 and outcomes[-1].problem is None:
                outcomes[-1] = Outcome("plan", outcomes[-1].code, outcomes[-1].err, "plan refused what validate passed")
        return outcomes
    finally:
        path.unlink(missing_ok=True)
