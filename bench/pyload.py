"""A small asyncio HTTP/1.1 load generator: the fallback when wrk is not available (and the smoke test's).

Keep-alive connections, one request in flight per connection, latency per request. It shares a core with
the server it loads, so its figures are lower than wrk's and not comparable with them.
"""

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.data import ID_MARK
from bench.loadgen import Load, LoadResult
from bench.stats import percentile


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    non_2xx: int = 0


class PythonLoad:
    """The fallback generator."""

    name = "python"

    def run(self, load: Load, workdir: Path) -> LoadResult:
        """Apply ``load`` from this process."""
        tally = _Tally()
        started = time.perf_counter()
        asyncio.run(_drive(load, tally))
        seconds = time.perf_counter() - started
        return LoadResult(
            tool="python",
            requests=len(tally.latencies),
            seconds=seconds,
            p50_ms=percentile(tally.latencies, 0.50) * 1000,
            p99_ms=percentile(tally.latencies, 0.99) * 1000,
            errors=tally.errors,
            non_2xx=tally.non_2xx,
        )


async def _drive(load: Load, tally: _Tally) -> None:
    deadline = time.perf_counter() + load.duration
    numbers = itertools.count(1)
    connections = [_connection(load, deadline, numbers, tally) for _ in range(load.connections)]
    await asyncio.gather(*connections)


async def _connection(load: Load, deadline: float, numbers: "itertools.count[int]", tally: _Tally) -> None:
    url = urlsplit(load.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        tally.errors += 1
        return
    head = f"POST {url.path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {load.content_type}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in load.headers)
    try:
        while time.perf_counter() < deadline:
            number = next(numbers)
            template = load.templates[number % len(load.templates)]
            body = template.replace(ID_MARK.encode(), f"{load.prefix}-{number}".encode())
            request = f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
            sent = time.perf_counter()
            writer.write(request)
            status = await asyncio.wait_for(_response(reader), load.timeout)
            tally.latencies.append(time.perf_counter() - sent)
            tally.non_2xx += not 200 <= status < 300
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
        tally.errors += 1
    finally:
        writer.close()


async def _response(reader: asyncio.StreamReader) -> int:
    """Read one response; return its status code."""
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status
