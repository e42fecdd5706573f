"""The SIGMA-AETL benchmark suite: ``bench/run`` (or ``python -m bench``) runs every part or one of them.

One module per part — :mod:`bench.validator`, :mod:`bench.ingest`, :mod:`bench.http`,
:mod:`bench.http_batch`, :mod:`bench.kafka`, :mod:`bench.memory` (soak), :mod:`bench.profile` — over shared
pieces: deterministic data (:mod:`bench.data`), processes (:mod:`bench.procs`, :mod:`bench.servers`), load
generators (:mod:`bench.loadgen`), figures (:mod:`bench.stats`) and the report (:mod:`bench.report`).
Everything listens on 127.0.0.1 only, is bounded in time, and stops the processes it started.
"""
