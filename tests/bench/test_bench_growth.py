"""The pure parts of the benchmark's cost-growth series and of its CPU time per process (bench/procs.py)."""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from bench.cli import sizes
from bench.ingest import FRESH_TARGET, SUSTAINED_TARGET, Ingested, WithStartup, cpu_rows
from bench.stats import Figure

from bench import growth, procs

# A /proc/PID/stat line whose command holds a space and a parenthesis, as a thread name may.
STAT = "4242 (python (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 30 0 0 20 0 3 0 100 0 0"


def ingested(events: int, rate: float, cpu: procs.CpuTimes, *, stored: int | None = None) -> Ingested:
    """An ``ingest --json`` run that read ``events``, stored ``stored`` of them anew, at ``rate``."""
    new = events if stored is None else stored
    summary: dict[str, Any] = {
        "events_read": events,
        "accepted": new,
        "failed": 0,
        "duplicates": events - new,
        "events_per_second": rate,
    }
    return Ingested(summary, procs.Measured(0, "", 1.0, 50.0, cpu))


def measured_run(rate: float, main: float = 2.0, writer: float = 1.0) -> WithStartup:
    """A 100,000-event run at ``rate`` with its start-up run (0.5 s main, 0.1 s writer)."""
    run = ingested(100_000, rate, procs.CpuTimes(main, writer))
    return WithStartup(run, ingested(0, 0.0, procs.CpuTimes(0.5, 0.1)))


def step(size: int, rates: list[float], fill: list[Ingested] | None = None) -> growth.Step:
    """A growth step at ``size`` with one measured run per rate."""
    runs = [measured_run(rate) for rate in rates]
    after = size + 300_000
    return growth.Step(size, fill or [], runs, disk_bytes=after * 1000, stored_after=after)


def test_stat_cpu_seconds_adds_user_and_system_time() -> None:
    """utime and stime (fields 14 and 15) are read after the last parenthesis and turned into seconds."""
    assert procs.stat_cpu_seconds(STAT, ticks=100) == pytest.approx(2.8)


def test_children_pids_reads_every_thread_file() -> None:
    """The children of every thread are listed, blank files ignored."""
    assert procs.children_pids(["101 102 ", "", "103\n"]) == [101, 102, 103]


def test_role_names_the_sqlite_writer_by_its_entry_point() -> None:
    """A child running the writer module is the writer; any other child is another child."""
    writer = b"python\0-c\0import sys; from sigma_aetl.stores.sqlite.writer import main; main(sys.argv)\0"
    assert procs.role(writer) == procs.WRITER
    assert procs.role(b"python\0-m\0sigma_aetl\0ingest\0") == procs.OTHER


def test_cpu_times_minus_subtracts_role_by_role() -> None:
    """A run's CPU times less a start-up's are taken per role."""
    spent = procs.CpuTimes(2.0, 1.0, 0.5).minus(procs.CpuTimes(0.5, 0.25, 0.5))
    assert spent == procs.CpuTimes(1.5, 0.75, 0.0)


def test_cpu_watch_samples_a_process_and_its_child() -> None:
    """The watch finds a live child through /proc and keeps each process's last sample by role."""
    busy = "import subprocess, sys; subprocess.run([sys.executable, '-c', 'sum(range(10**7))'])"
    proc = subprocess.Popen([sys.executable, "-c", busy])
    watch = procs.CpuWatch(proc.pid)
    try:
        while proc.poll() is None:
            watch.sample()
            time.sleep(0.01)
    finally:
        proc.wait()
    times = watch.times()
    assert times.main > 0
    assert times.other > 0
    assert times.writer == 0
    assert len(watch.roles) >= 2


def test_cpu_watch_of_this_process_sees_its_cpu() -> None:
    """Sampling the current process reads a CPU time close to what it measures of itself."""
    watch = procs.CpuWatch(os.getpid())
    watch.sample()
    assert watch.times().main == pytest.approx(time.process_time(), abs=0.5)


def test_cpu_rows_give_microseconds_per_event_without_start_up() -> None:
    """CPU per event is (run minus start-up) ÷ events read, in µs, one row per process."""
    rows = cpu_rows("fresh store", [measured_run(30_000.0)])
    assert [row.metric for row in rows] == [
        "fresh store · CPU per event · main process",
        "fresh store · CPU per event · writer process",
    ]
    assert [row.figure.median for row in rows if row.figure] == [pytest.approx(15.0), pytest.approx(9.0)]


def test_chunks_cover_the_fill_from_start_to_stop() -> None:
    """The fill files take the store from what it holds to the size, in chunks of at most CHUNK."""
    assert list(growth.chunks(600, 2_500, size=1_000)) == [(600, 1_000), (1_600, 900)]
    assert list(growth.chunks(3_000, 2_500, size=1_000)) == []


def test_fill_rate_is_events_over_the_sum_of_their_times() -> None:
    """A fill of several ingests runs at all its events over the time the ingests took together."""
    fill = [ingested(1_000, 100.0, procs.CpuTimes()), ingested(3_000, 50.0, procs.CpuTimes())]
    assert growth.fill_rate(fill) == pytest.approx(4_000 / 70)
    assert growth.fill_rate([]) is None


def test_ratios_compare_each_median_with_the_first() -> None:
    """Each step's ratio is its median events/s over the first step's median."""
    steps = [step(0, [100.0, 90.0, 110.0]), step(1_000_000, [80.0, 70.0, 75.0])]
    assert growth.ratios(steps) == [pytest.approx(1.0), pytest.approx(0.75)]


def test_targets_apply_at_their_sizes() -> None:
    """Fresh ≥ 100k at 0, ≥ 60k from 5M, and the ratio ≥ 0.75 from 20M; none in between."""
    assert growth.rate_target(0) == FRESH_TARGET
    assert growth.rate_target(1_000_000) is None
    assert growth.rate_target(5_000_000) == SUSTAINED_TARGET
    assert growth.ratio_target(5_000_000) is None
    assert growth.ratio_target(20_000_000) == growth.RATIO_TARGET


def test_table_has_the_rows_of_every_step_with_verdicts() -> None:
    """Each step gives its fill, events/s, ratio, CPU rows and bytes per event; the 20M ratio is judged."""
    fill = [ingested(1_000_000, 40_000.0, procs.CpuTimes())]
    rows = growth.table([step(0, [100_000.0]), step(20_000_000, [70_000.0], fill)])
    metrics = [row.metric for row in rows]
    assert metrics[:2] == ["at 0 stored", "at 0 stored · ratio to the first size"]
    assert "fill 19,000,000 → 20,000,000 (batch 5000, synchronous=OFF)" in metrics
    by_metric = {row.metric: row for row in rows}
    assert by_metric["at 0 stored"].verdict == "PASS"
    assert by_metric["at 20,000,000 stored · ratio to the first size"].verdict == "MISS"
    per_event = by_metric["at 20,000,000 stored · bytes on disk per stored event"]
    assert per_event.figure == Figure.of([1000.0])
    assert per_event.note == "20,300 MB for 20,300,000 stored, after the step"


def test_table_warns_when_a_measured_run_met_duplicates() -> None:
    """A measured run that did not store every event anew is flagged beside its figure."""
    item = step(0, [100_000.0])
    short = WithStartup(ingested(100_000, 100.0, procs.CpuTimes(), stored=99_000), item.runs[0].startup)
    rows = growth.table([growth.Step(0, [], [short], 1, 1)])
    assert rows[0].note.startswith("⚠ only 99,000")


def test_room_for_refuses_a_fill_the_disk_cannot_hold() -> None:
    """A fill that would not fit in the free space is refused with the space it needs."""
    assert growth.room_for(10**12, 1_000_000, 1_200.0) == ""
    assert "needs about" in growth.room_for(10**9, 20_000_000, 1_200.0)


def test_sizes_parse_a_comma_separated_list() -> None:
    """``--sizes`` takes integers separated by commas and refuses anything else."""
    assert sizes("0, 1_000_000,5000000") == (0, 1_000_000, 5_000_000)
    with pytest.raises(argparse.ArgumentTypeError):
        sizes("0,many")
    with pytest.raises(argparse.ArgumentTypeError):
        sizes("-1")


def test_disk_bytes_count_the_database_and_its_wal(tmp_path: Path) -> None:
    """Bytes on disk add the database file and its -wal and -shm files, whichever exist."""
    store = tmp_path / "s.db"
    store.write_bytes(b"x" * 10)
    Path(f"{store}-wal").write_bytes(b"x" * 5)
    assert growth.disk_bytes(store) == 15


def test_the_growth_part_runs_end_to_end(tmp_path: Path) -> None:
    """``bench growth`` with tiny sizes grows one store, reports every row and writes its own section."""
    repo = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "bench", "growth", "--runs", "1", "--events", "300", "--sizes", "0,700"]
    command += ["--output", str(tmp_path / "benchmarks.md"), "--json", str(tmp_path / "figures.json")]
    command += ["--workdir", str(tmp_path / "work")]
    done = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = json.loads((tmp_path / "figures.json").read_text())["parts"]["growth"]["rows"]
    metrics = [row["metric"] for row in rows]
    assert "fill 300 → 700 (batch 5000, synchronous=OFF)" in metrics
    assert "at 700 stored" in metrics
    rates = [row for row in rows if row["unit"] in ("events/s", "B", "x")]
    assert all(row["median"] > 0 for row in rates), rates
    assert "<!-- bench:growth -->" in (tmp_path / "benchmarks.md").read_text()
    assert not list((tmp_path / "work").glob("*.jsonl")) or all(
        path.name == "empty.jsonl" for path in (tmp_path / "work").glob("*.jsonl")
    )
