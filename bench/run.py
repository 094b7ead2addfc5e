"""Benchmarks of the qms command line: figures, not pass/fail.

Each measured command runs in a fresh subprocess, so imports count, and its peak memory is that child's
maximum resident set size (`os.wait4`). Timings on a shared machine are noisy: commands run `--repeat`
times (once for corpora of `--repeat-large-from` requirements or more) and the table shows the median,
with the minimum and maximum beside it.

Measured:
- `qms --help`, `qms validate` and `qms diff`, and whether each imports torch;
- `qms consolidate --no-exports` on the shipped standards and on synthetic corpora (bench/synthetic.py),
  cold (a fresh, empty embedding cache) and warm (the cache filled);
- the embedding step alone (bench/embed_only.py: import the model, load it, embed the same texts),
  so `cold / embed` is the whole run's cost over the model's own;
- `qms tracker collect` over 67 filled service trackers of the shipped framework, and `qms report` over
  the set collected (bench/selfassess.py builds them, untimed).

Usage: `python bench/run.py` (shipped + 1k, 5k and 20k), `--quick` (shipped + 1k), `--sizes 1000,5000`.
Figures go to stdout as a table and to bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from selfassess import build_trust  # noqa: E402
from synthetic import generate  # noqa: E402

TARGETS = {  # seconds, from the performance issue; shown beside the figures
    "qms --help": 0.5,
    "qms validate": 0.5,
    "qms diff": 0.5,
    "consolidate warm": 1.5,
    "consolidate cold": 8.0,
}
TARGET_20K_COLD_S = 120.0
TARGET_20K_PEAK_MB = 3000.0
TARGET_RATIO = 1.3

err = Console(stderr=True)


@dataclass
class Measure:
    """One measured command over its repeats."""

    case: str
    corpus: str
    requirements: int
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    imports_torch: bool | None = None
    detail: dict = field(default_factory=dict)

    @property
    def median_s(self) -> float:
        return statistics.median(self.wall_s)

    def as_json(self) -> dict:
        out = asdict(self)
        out.update(
            median_s=round(self.median_s, 3),
            min_s=round(min(self.wall_s), 3),
            max_s=round(max(self.wall_s), 3),
            cpu_median_s=round(statistics.median(self.cpu_s), 3),
            peak_mb_max=round(max(self.peak_mb), 1),
            runs=len(self.wall_s),
        )
        return out


def qms_command() -> list[str]:
    """The installed `qms` script next to this interpreter, else `python -m qms_standards`."""
    script = Path(sys.executable).parent / "qms"
    return [str(script)] if script.exists() else [sys.executable, "-m", "qms_standards"]


def base_env(cache: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    if cache is not None:
        env["QMS_CACHE_DIR"] = str(cache)
    return env


def measure(
    args: list[str], cwd: Path, env: dict[str, str], ok: tuple[int, ...] = (0,)
) -> tuple[float, float, float, str]:
    """Run a command in a subprocess; return its wall seconds, CPU seconds, peak RSS in MB and stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        errors.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if child.returncode not in ok:
            raise RuntimeError(
                f"{' '.join(args)} exited {child.returncode}:\n{errors.read().decode()[-3000:]}"
            )
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    peak = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    return wall, usage.ru_utime + usage.ru_stime, peak, stdout


def imports_torch(qms_args: list[str], cwd: Path, env: dict[str, str]) -> bool:
    """Whether running the CLI with these arguments imports torch (checked in a separate, untimed run)."""
    probe = (
        "import sys\nfrom qms_standards.cli import main\nsys.argv = ['qms', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('TORCH=%s' % ('torch' in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *qms_args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return "TORCH=True" in done.stderr


def run_case(result: Measure, args: list[str], cwd: Path, repeat: int, env_for_run, ok=(0,)) -> Measure:  # type: ignore[no-untyped-def]
    for k in range(repeat):
        err.print(f"  {result.case} [{result.corpus}] run {k + 1}/{repeat}", highlight=False, markup=False)
        wall, cpu, peak, stdout = measure(args, cwd, env_for_run(k), ok)
        result.wall_s.append(round(wall, 3))
        result.cpu_s.append(round(cpu, 3))
        result.peak_mb.append(round(peak, 1))
        if args[-1].endswith("texts.json"):
            result.detail = json.loads(stdout.strip().splitlines()[-1])
    return result


class _Recorder:
    """An embedder that records what it is asked to embed and answers with random unit vectors."""

    name = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.rng = np.random.default_rng(0)

    def encode(self, texts: list[str], progress=None):  # type: ignore[no-untyped-def]
        self.calls.append(list(texts))
        vectors = self.rng.standard_normal((len(texts), 384)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def embedding_calls(standards: Path, mappings: Path) -> list[list[str]]:
    """The texts `consolidate` embeds on a cold cache, call by call (recorded from the engine itself)."""
    from qms_standards.framework import consolidate
    from qms_standards.load import load_catalogue
    from qms_standards.models import Settings

    catalogue = load_catalogue([standards], mappings)
    assert catalogue.mappings is not None
    recorder = _Recorder()
    consolidate(catalogue.sets, catalogue.mappings, Settings(), recorder)
    return recorder.calls


def bench_corpus(name: str, folder: Path, repeat: int, work: Path) -> list[Measure]:
    """validate, consolidate cold and warm, the embedding step alone, and diff, on one corpus."""
    standards, mappings = folder / "standards", folder / "mappings"
    n = sum(len(s.set.requirements) for s in _load(standards))
    qms = qms_command()
    caches = work / f"{name}-caches"
    validate_args = ["validate", "standards", "mappings"]
    diff_args = ["diff", "out/framework.yaml", "out-b/framework.yaml"]
    validate = run_case(
        Measure("qms validate", name, n),
        [*qms, *validate_args],
        folder,
        repeat,
        lambda k: base_env(caches / "unused"),
    )
    consolidate = [*qms, "consolidate", "-o", "out", "--no-exports", "--quiet"]
    cold = run_case(
        Measure("consolidate cold", name, n),
        consolidate,
        folder,
        repeat,
        lambda k: base_env(caches / f"cold-{k}"),
    )
    warm_cache = caches / f"cold-{repeat - 1}"
    warm = run_case(
        Measure("consolidate warm", name, n), consolidate, folder, repeat, lambda k: base_env(warm_cache)
    )
    texts = work / f"{name}-texts.json"
    texts.write_text(json.dumps(embedding_calls(standards, mappings)), encoding="utf-8")
    embed = run_case(
        Measure("embedding step alone", name, n),
        [sys.executable, str(BENCH / "embed_only.py"), str(texts)],
        folder,
        repeat,
        lambda k: base_env(caches / "unused"),
    )
    # A second framework to diff against: the same corpus cut at another threshold (warm, untimed).
    measure(
        [*qms, "consolidate", "-o", "out-b", "--no-exports", "--quiet", "--threshold", "0.5"],
        folder,
        base_env(warm_cache),
    )
    diff = run_case(
        Measure("qms diff", name, n),
        [*qms, *diff_args],
        folder,
        repeat,
        lambda k: base_env(warm_cache),
        ok=(0, 1),
    )
    cold.detail = {"ratio_to_embedding": round(cold.median_s / embed.median_s, 3)}
    if (folder / "truth.json").exists():
        cold.detail.update(planted_recall(folder / "truth.json", folder / "out" / "framework.yaml"))
    validate.imports_torch = imports_torch(validate_args, folder, base_env(warm_cache))
    diff.imports_torch = imports_torch(diff_args, folder, base_env(warm_cache))
    return [validate, cold, warm, embed, diff]


def bench_self_assessment(folder: Path, repeat: int, work: Path) -> list[Measure]:
    """collect and report for 67 services over the framework consolidated from `folder`."""
    trust = work / "trust"
    services, returned, rows = build_trust(folder / "out" / "framework.yaml", trust)
    qms = qms_command()
    framework = str(folder / "out" / "framework.yaml")
    corpus = f"{rows // 67} standards x 67 services"
    collect = run_case(
        Measure("tracker collect", corpus, rows),
        [
            *qms,
            "tracker",
            "collect",
            str(returned),
            "--framework",
            framework,
            "--services-file",
            str(services),
        ]
        + ["--out", str(trust / "returns"), "--date", "2025-06-30"],
        trust,
        repeat,
        lambda k: base_env(work / "unused"),
    )
    report = run_case(
        Measure("qms report", corpus, rows),
        [*qms, "report", str(trust / "returns"), "--framework", framework, "-o", str(trust / "report.html")]
        + ["--standards", str(folder / "standards")],
        trust,
        repeat,
        lambda k: base_env(work / "unused"),
    )
    return [collect, report]


def planted_recall(truth: Path, framework: Path) -> dict:
    """How many planted overlapping pairs of a synthetic corpus ended up in one standard."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    standards = yaml.load(framework.read_text(encoding="utf-8"), Loader=loader)["standards"]
    home = {source["ref"]: s["id"] for s in standards for source in s["sources"]}
    pairs = json.loads(truth.read_text(encoding="utf-8"))["pairs"]
    together = sum(home[a] == home[b] for a, b, _ in pairs)
    recall = round(together / len(pairs), 4) if pairs else None
    return {"standards": len(standards), "planted_pairs": len(pairs), "planted_recall": recall}


def _load(standards: Path):  # type: ignore[no-untyped-def]
    from qms_standards.load import load_standard_sets

    return load_standard_sets([standards])


def shipped_copy(work: Path) -> Path:
    """A copy of standards/ and mappings/ (consolidate rewrites mappings/ids.lock.yaml)."""
    folder = work / "shipped"
    shutil.copytree(ROOT / "standards", folder / "standards")
    shutil.copytree(ROOT / "mappings", folder / "mappings")
    lock = folder / "mappings" / "ids.lock.yaml"
    lock.unlink(missing_ok=True)  # every corpus starts without a lock, as a first run would
    return folder


def render(results: list[Measure]) -> Table:
    table = Table(
        title="qms benchmarks: wall seconds (median of the runs, min-max), CPU seconds, peak RSS of the child"
    )
    for column in ("case", "corpus", "reqs", "runs", "median s", "min-max s", "cpu s", "peak MB", "note"):
        table.add_column(column, justify="left" if column in ("case", "corpus", "note") else "right")
    for m in results:
        note = []
        target = TARGETS.get(m.case) if m.corpus == "shipped" or m.case.startswith("qms") else None
        if m.case == "consolidate cold" and m.requirements >= 20_000:
            target = TARGET_20K_COLD_S
        if target is not None:
            note.append(f"target < {target:g} s")
        if m.case == "consolidate cold" and m.requirements >= 20_000:
            note.append(f"peak target < {TARGET_20K_PEAK_MB:g} MB")
        if m.imports_torch is not None:
            note.append("imports torch" if m.imports_torch else "no torch")
        if "ratio_to_embedding" in m.detail:
            note.append(f"{m.detail['ratio_to_embedding']:.2f}x embedding (target <= {TARGET_RATIO:g}x)")
        if m.detail.get("planted_recall") is not None:
            note.append(
                f"{m.detail['standards']:,} standards; {m.detail['planted_recall']:.0%} of "
                f"{m.detail['planted_pairs']:,} planted pairs together"
            )
        if "encode_s" in m.detail:
            note.append(
                f"load {m.detail['load_s']:.1f} s + encode {m.detail['encode_s']:.1f} s "
                f"({m.detail['texts']} texts)"
            )
        slow = target is not None and m.median_s >= target
        table.add_row(
            m.case,
            m.corpus,
            f"{m.requirements:,}",
            str(len(m.wall_s)),
            f"[red]{m.median_s:.2f}[/]" if slow else f"{m.median_s:.2f}",
            f"{min(m.wall_s):.2f}-{max(m.wall_s):.2f}",
            f"{statistics.median(m.cpu_s):.2f}",
            f"{max(m.peak_mb):,.0f}",
            "; ".join(note),
        )
    return table


def write_results(
    path: Path,
    results: list[Measure],
    args: argparse.Namespace,
    sizes: list[int],
    started: float,
    load_before: tuple[float, float, float],
    complete: bool,
) -> None:
    """Write the figures so far; called after every corpus, so an interrupted run still leaves them."""
    payload = {
        "complete": complete,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "settings": {
            "sizes": sizes,
            "repeat": args.repeat,
            "repeat_large_from": args.repeat_large_from,
            "seed": args.seed,
        },
        "seconds": round(time.time() - started, 1),
        "targets": {
            **{k: f"< {v:g} s" for k, v in TARGETS.items()},
            "consolidate cold, 20k": f"< {TARGET_20K_COLD_S:g} s, peak < {TARGET_20K_PEAK_MB:g} MB",
            "consolidate cold / embedding step": f"<= {TARGET_RATIO:g}",
        },
        "results": [m.as_json() for m in results],
    }
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description="Print qms benchmark figures and write bench/results.json.")
    parser.add_argument("--sizes", default="1000,5000,20000", help="Synthetic corpus sizes (comma list).")
    parser.add_argument("--quick", action="store_true", help="Shipped standards and 1,000 requirements only.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per command (median reported).")
    parser.add_argument(
        "--repeat-large-from",
        type=int,
        default=5000,
        help="Corpora of this many requirements or more run each command once.",
    )
    parser.add_argument("--seed", type=int, default=0, help="Seed of the synthetic corpora.")
    parser.add_argument("--output", type=Path, default=BENCH / "results.json")
    args = parser.parse_args()
    sizes = [1000] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    started = time.time()
    load_before = os.getloadavg()
    results: list[Measure] = []

    def save(complete: bool = False) -> None:
        write_results(args.output, results, args, sizes, started, load_before, complete)

    with tempfile.TemporaryDirectory(prefix="qms-bench-") as tmp:
        work = Path(tmp)
        err.print("qms --help", highlight=False)
        help_ = run_case(
            Measure("qms --help", "-", 0),
            [*qms_command(), "--help"],
            work,
            args.repeat,
            lambda k: base_env(work / "unused"),
        )
        help_.imports_torch = imports_torch(["--help"], work, base_env(work / "unused"))
        results.append(help_)
        err.print("shipped standards", highlight=False)
        shipped = shipped_copy(work)
        results += bench_corpus("shipped", shipped, args.repeat, work)
        save()
        err.print("self-assessment: 67 services", highlight=False)
        results += bench_self_assessment(shipped, args.repeat, work)
        save()
        for size in sizes:
            err.print(f"synthetic corpus of {size:,} requirements", highlight=False)
            folder = work / f"synthetic-{size}"
            generate(size, seed=args.seed).write(folder)
            repeat = 1 if size >= args.repeat_large_from else args.repeat
            label = f"{size // 1000}k" if size % 1000 == 0 else str(size)
            results += bench_corpus(f"synthetic-{label}", folder, repeat, work)
            save()
    out = Console()
    if not out.is_terminal:
        out = Console(width=220)  # a file or pipe: do not squeeze the table into 80 columns
    out.print(render(results))
    save(complete=True)
    err.print(f"wrote {args.output}", highlight=False)


if __name__ == "__main__":
    main()
