"""The command line: which parts to run, with which sizes; runs them, prints and writes the report."""

import argparse
import shutil
import signal
import tempfile
import traceback
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from types import FrameType

from bench import (
    advisor,
    analytics,
    audit,
    classes,
    growth,
    http_batch,
    http_single,
    ingest,
    instructions,
    kafka,
    machine,
    profile,
    records,
    replay,
    report,
    soak,
    validator,
)
from bench.context import Context
from bench.machine import Stamp
from bench.options import DEFAULT_OUTPUT, FULL, QUICK, Options
from bench.stats import PartResult

PARTS: dict[str, Callable[[Context], PartResult]] = {
    "validator": validator.run,
    "records": records.run,
    "ingest": ingest.run,
    "growth": growth.run,
    "http-single": http_single.run,
    "http-batch": http_batch.run,
    "kafka": kafka.run,
    "memory": soak.run,
    "audit": audit.run,
    "classes": classes.run,
    "analytics": analytics.run,
    "advisor": advisor.run,
    "replay": replay.run,
    "instructions": instructions.run,
}
ALIASES = {"soak": "memory", "all": "all"}
PROFILE_OF_MISS = {
    "ingest": ["ingest"],
    "http-single": ["http-validate", "http-ingest"],
    "http-batch": ["http-batch"],
}
"""Profiles ``all`` records when a part misses a target."""

EPILOG = """\
parts: validator, records, ingest, growth, http-single, http-batch, kafka, memory (= soak), audit, classes,
       analytics, advisor, replay, instructions, profile TARGET...
       (profile targets: ingest, http-ingest, http-validate, http-batch). No part, or "all", runs every
       part and then profiles the parts that miss a target.
examples:
  bench/run --quick                 every part, tiny sizes (a few minutes)
  bench/run ingest --prefill 1000000
  bench/run growth --sizes 0,1000000,5000000,20000000   (hours at 20M: one store grown through the CLI)
  bench/run audit --audit-events 100000
  bench/run soak --minutes 10
  bench/run classes --scale 1000000
  bench/run analytics --scale 5000000
  bench/run profile ingest http-ingest
"""


def parser() -> argparse.ArgumentParser:
    """The argument parser; size options default to the full (or --quick) preset."""
    p = argparse.ArgumentParser(
        prog="bench/run",
        description="SIGMA-AETL benchmarks.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("parts", nargs="*", metavar="PART", help="parts to run (default: all)")
    p.add_argument("--quick", action="store_true", help="tiny sizes, to check the harness")
    p.add_argument("--runs", type=int, help="runs per figure (≥ 3 for a median worth reading)")
    p.add_argument("--validator-events", type=int, help="events per validator set")
    p.add_argument("--events", type=int, help="events per ingest file")
    p.add_argument("--prefill", type=int, help="events in the store for the sustained figure (5,000,000)")
    p.add_argument(
        "--sizes",
        type=sizes,
        help="store sizes of the growth series, comma-separated (0,1000000,5000000,20000000)",
    )
    p.add_argument("--kafka-events", type=int, help="events on the Kafka topic")
    p.add_argument("--audit-events", type=int, help="stored events the audit part checks (1,000,000)")
    p.add_argument(
        "--scale",
        type=int,
        help="failures in the classes part's store, events in the analytics part's (5,000,000)",
    )
    p.add_argument("--duration", type=float, help="seconds of load per HTTP measurement")
    p.add_argument("--warmup", type=float, help="seconds of warm-up load before each HTTP measurement")
    p.add_argument("--connections", type=int, default=32, help="HTTP connections, single events (32)")
    p.add_argument("--batch-events", type=int, default=1000, help="events per HTTP batch (1000)")
    p.add_argument("--batch-connections", type=int, default=4, help="HTTP connections for batches (4)")
    p.add_argument("--minutes", dest="soak_minutes", type=float, help="soak duration (10)")
    p.add_argument("--soak-interval", type=float, help="seconds between RSS samples in the soak")
    p.add_argument("--profile-seconds", type=float, help="seconds of sampling for HTTP profiles")
    p.add_argument("--valid-share", type=float, default=0.8, help="share of valid events in mixes (0.8)")
    p.add_argument("--seed", type=int, default=20240601, help="seed of the generated data")
    p.add_argument("--sqlite-sync", default="FULL", choices=("OFF", "NORMAL", "FULL"), help="store option")
    p.add_argument("--loadgen", default="auto", choices=("auto", "wrk", "python"), help="HTTP load generator")
    p.add_argument("--no-install", dest="install", action="store_false", help="never install wrk or py-spy")
    p.add_argument("--workdir", type=Path, help="keep data, stores and logs here (default: a temp dir)")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown report to update")
    p.add_argument("--json", dest="json_out", type=Path, help="also write every figure as JSON here")
    p.add_argument("--note", default="", help="a remark on the machine's state, printed in the report")
    return p


def sizes(text: str) -> tuple[int, ...]:
    """``--sizes``: comma-separated store sizes (underscores allowed), each ≥ 0."""
    try:
        values = tuple(int(item.strip()) for item in text.split(",") if item.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a list of integers: {text!r}") from exc
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"sizes must be integers ≥ 0: {text!r}")
    return values


def options_from(args: argparse.Namespace, workdir: Path) -> Options:
    """Options from the arguments, the preset filling what was not given."""
    preset = QUICK if args.quick else FULL
    given = {name: getattr(args, name) for name in preset}
    sizes = {name: preset[name] if value is None else value for name, value in given.items()}
    return Options(
        **sizes,
        connections=args.connections,
        batch_events=args.batch_events,
        batch_connections=args.batch_connections,
        valid_share=args.valid_share,
        seed=args.seed,
        workdir=workdir,
        output=args.output,
        json_out=args.json_out,
        loadgen=args.loadgen,
        install=args.install,
        sqlite_sync=args.sqlite_sync,
        note=args.note,
        quick=args.quick,
    )


def plan(tokens: list[str]) -> tuple[list[str], list[str], bool]:
    """(parts, profile targets, whether to profile the misses) from the positional arguments."""
    parts: list[str] = []
    targets: list[str] = []
    profiling = False
    for token in tokens or ["all"]:
        name = ALIASES.get(token, token)
        if name == "profile":
            profiling = True
        elif profiling and name in profile.TARGETS:
            targets.append(name)
        elif name == "all":
            parts.extend(PARTS)
        elif name in PARTS:
            parts.append(name)
        else:
            raise SystemExit(f"bench: unknown part {token!r} (see --help)")
    if profiling and not targets:
        raise SystemExit(f"bench: profile what? one of {', '.join(profile.TARGETS)}")
    return list(dict.fromkeys(parts)), targets, "all" in (tokens or ["all"])


def main(argv: list[str] | None = None) -> None:
    """Run the chosen parts; exit 1 if any part failed to run."""
    args = parser().parse_args(argv)
    parts, targets, auto_profile = plan(args.parts)
    signal.signal(signal.SIGTERM, _terminated)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sigma-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        failed = Runner(Context(options_from(args, workdir))).run(parts, targets, auto_profile)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    raise SystemExit(1 if failed else 0)


def _terminated(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so every ``finally`` stops its servers and the temp dir goes."""
    raise SystemExit(128 + signum)


class Runner:
    """Runs parts and profiles one after the other, reporting each as soon as it is done."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.machine = machine.describe()
        self.results: list[PartResult] = []
        self.profiles: list[profile.Profile] = []
        self.failed = False

    def run(self, parts: list[str], targets: list[str], auto_profile: bool) -> bool:
        """Every part, then the profiles; return whether anything failed."""
        self._write({"machine": report.machine_markdown(self.machine, self.ctx.options.note)})
        for name in parts:
            self._part(name)
        if auto_profile:
            targets = targets + [t for r in self.results if r.missed for t in PROFILE_OF_MISS.get(r.name, [])]
        for target in dict.fromkeys(targets):
            self._profile(target)
        return self.failed

    def _part(self, name: str) -> None:
        print(f"bench: {name} …", flush=True)
        since = Stamp.now()
        try:
            result = PARTS[name](self.ctx)
        except Exception as exc:  # noqa: BLE001 - one broken part must not lose the others' figures
            self.failed = True
            traceback.print_exc()
            result = PartResult(
                name, f"{name} (failed)", notes=[f"The part failed: {type(exc).__name__}: {exc}"]
            )
        self.results.append(result)
        print(report.console(result), flush=True)
        self._write({name: report.part_markdown(result, self.machine, since)})

    def _profile(self, target: str) -> None:
        print(f"bench: profile {target} …", flush=True)
        since = Stamp.now()
        try:
            found = profile.run(self.ctx, target)
        except Exception:  # noqa: BLE001 - a profile is an aid; report and carry on
            self.failed = True
            traceback.print_exc()
            return
        self.profiles.append(found)
        section = report.profile_markdown(found, self.machine, since)
        print(section, flush=True)
        self._write({f"profile-{target}": section})

    def _write(self, sections: dict[str, str]) -> None:
        options = self.ctx.options
        report.write_sections(options.output, sections)
        if options.json_out is not None:
            with suppress(OSError):
                options.json_out.write_bytes(report.results_json(self.machine, self.results, self.profiles))
