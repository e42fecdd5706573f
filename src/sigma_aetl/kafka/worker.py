"""The Kafka worker: consume a batch, store it through the pipeline, publish it, and only then commit.

One loop; each batch is stored, published and committed before any later one is committed::

    while not stopped:
        between_batches()                   # reload the contracts if asked; readiness (broker, store)
        batch = source.poll()               # consume(batch_size, batch_timeout); rebalances happen here
        drain(batch)                        # pipeline.process_stream over it and the backlog behind it:
            for each batch's outcomes:      #   while a batch's last transaction commits, between_batches()
                publish(outcomes)           #   and source.poll(timeout=0) fetch the next batch (only what
                pause_flooded()             #   librdkafka already holds) and its first part is decided
                source.ack(batch)           # commit exactly the stored offsets, synchronously

With a backlog the writer process so always has the next transaction at hand; without one (a poll
returns nothing at once) the stream ends and the loop waits in its next poll, so a trickle of messages is
committed as soon as it is stored. With ``flood_pause`` no batch is fetched before the one before it is
committed and its flooded partitions paused, so a pause stops its partition after the batch that tripped
it, as without a backlog.

Each call to Kafka in that loop runs inside :meth:`Health.waiting`: a commit (or a consume, or a flush of
the output topics) that waits longer than its bound makes ``/readyz`` say no broker answered, although the
loop itself, blocked in librdkafka, cannot run its probe. A stop request made meanwhile takes effect when
that call returns (a commit to a broker gone away returns after the group's session timeout).

When the store (or an output topic) fails, every batch not yet committed is retried, one after another,
each until it is stored (``settle``): the error is logged, the worker reports not-ready, and it waits
``retry_initial`` seconds, doubling up to ``retry_max``. Nothing is committed meanwhile, so nothing is
lost; a retried write stores what is missing and nothing twice (ids are deterministic). A stop request
(SIGTERM/SIGINT) ends the loop once the batches held are settled and acked; during an outage it ends the
wait at once and leaves them uncommitted, to be redelivered to whoever consumes the partition next.

**Between batches**, and only there, the worker reloads its contracts when asked (SIGHUP:
:meth:`Worker.reload_contracts`) or when the watched contracts directory changed, so a batch is always
judged by one registry; and it keeps its readiness true: when no message came for :data:`PROBE_EVERY`
seconds it asks a broker for metadata (at most :data:`PROBE_TIMEOUT` seconds) and pings the store.
There too it resumes the partitions an operator asked to resume (``pauses.py``, ``admin.py``), re-arming
the flood guard for them, and for every partition a rebalance took away.

**The flood guard** (``ingest/flood.py``) is told every stored batch by the pipeline; with
``flood_pause``, an alert on a partition pauses that partition only, once its batch is stored: the
messages already consumed from it are stored and committed as any others (pause, never skip), and the
next poll fetches nothing more from it until it is resumed, from the message after the last one stored.
"""

import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass

from sigma_aetl import logs
from sigma_aetl.core.envelope import Envelope
from sigma_aetl.errors import KafkaClientError, StoreError
from sigma_aetl.ingest.flood import FloodMonitor, attach
from sigma_aetl.ingest.gateway import Gateway
from sigma_aetl.ingest.metrics import Metrics
from sigma_aetl.ingest.outcome import Outcome, Tally
from sigma_aetl.ingest.pipeline import Pipeline
from sigma_aetl.ingest.reload import ContractReloader
from sigma_aetl.kafka.config import KafkaConfig
from sigma_aetl.kafka.health import WAIT_LIMIT, Health
from sigma_aetl.kafka.outputs import OutputPublisher
from sigma_aetl.kafka.pauses import parse_partition, partition_name
from sigma_aetl.kafka.source import KafkaSource

_log = logs.get("kafka.worker")

PROBE_EVERY = 5.0
"""Seconds without any answer from a broker after which the worker asks one (and pings the store)."""
PROBE_TIMEOUT = 2.0
"""Longest wait for that answer: a stop request waits at most this long on top of a poll."""


def backoff_delay(attempt: int, initial: float, maximum: float) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): ``initial`` doubled each time, capped."""
    return min(maximum, initial * 2.0 ** min(attempt, 32))


class StopFlag:
    """A stop request that a signal handler may set: no lock is taken (a handler that waits on a lock
    the interrupted thread holds would deadlock), and :meth:`wait` polls in short slices."""

    def __init__(self, poll: float = 0.05) -> None:
        self._set = False
        self._poll = poll
        self.reason = ""

    def set(self, reason: str = "requested") -> None:
        """Request the stop, saying why (e.g. the signal's name)."""
        self.reason = reason
        self._set = True

    def is_set(self) -> bool:
        """Whether a stop was requested."""
        return self._set

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, less if a stop is requested; True when it was."""
        deadline = time.monotonic() + timeout
        while not self._set and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(self._poll, left))
        return self._set


@dataclass
class WorkerStats:
    """What a worker run did; logged when it stops."""

    batches: int = 0
    messages: int = 0
    accepted: int = 0
    failed: int = 0
    duplicates: int = 0
    retries: int = 0

    def add(self, outcomes: Sequence[Outcome]) -> None:
        """Count one stored batch."""
        tally = Tally()
        tally.add(outcomes)
        self.batches += 1
        self.messages += tally.events
        self.accepted += tally.accepted
        self.failed += tally.failed
        self.duplicates += tally.duplicates


class Worker:
    """Consumes, stores, publishes and commits, batch after batch, until asked to stop."""

    def __init__(
        self,
        pipeline: Pipeline,
        source: KafkaSource,
        *,
        publisher: OutputPublisher | None = None,
        health: Health | None = None,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
        contracts: ContractReloader | None = None,
        watch_interval: float = 0,
        flood: FloodMonitor | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.source = source
        self.publisher = publisher
        self.health = health or Health()
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.contracts = contracts
        """Reloads the contracts between batches (SIGHUP, or ``watch_interval`` > 0); None: never."""
        self.watch_interval = watch_interval
        self.flood = flood
        """The flood guard fed by the pipeline (``ingest/flood.py``); None: off."""
        self.stats = WorkerStats()
        self._stop = StopFlag()
        self._reload_asked: str | None = None  # a plain attribute: set from a signal handler
        self._next_probe = 0.0
        self._next_watch = time.monotonic() + watch_interval
        self._reported_contact: float | None = None

    @classmethod
    def build(
        cls,
        config: KafkaConfig,
        gateway: Gateway,
        health: Health | None = None,
        metrics: Metrics | None = None,
    ) -> "Worker":
        """A worker over the gateway's pipeline, with a source and, if configured, an output publisher;
        it reloads the gateway's contracts directory, requiring every routed contract to stay there. With
        ``metrics``, the pipeline and the source report to them."""
        publisher = OutputPublisher(config, gateway.store) if config.publishes else None
        source = KafkaSource(config, metrics=metrics)
        if metrics is not None:
            gateway.pipeline.observer = metrics.observer
        flood = attach(gateway, "kafka", metrics)
        settings = gateway.settings
        reloader = ContractReloader(settings.contracts_dir, gateway.registry, require=config.check_contracts)
        return cls(
            gateway.pipeline,
            source,
            publisher=publisher,
            health=health,
            retry_initial=config.retry_initial,
            retry_max=config.retry_max,
            contracts=reloader,
            watch_interval=settings.contracts_watch_interval,
            flood=flood,
        )

    def run(self) -> WorkerStats:
        """Consume until :meth:`stop`; then close the consumer (committing what is stored) and return."""
        try:
            self.source.subscribe()
            self._started()
            while not self._stop.is_set():
                self._between_batches()
                with self.health.waiting("consuming", self.source.config.batch_timeout + WAIT_LIMIT):
                    batch = self.source.poll()
                if batch and not self._drain(batch):
                    break
            _log.info("stopping; every stored batch is committed", reason=self._stop.reason)
        finally:
            self.health.not_ready("stopped")
            self._close()
        _log.info("worker stopped", **asdict(self.stats))
        return self.stats

    def reload_contracts(self, trigger: str = "SIGHUP") -> None:
        """Reload the contracts before the next batch; safe from a signal handler (no lock, no I/O)."""
        self._reload_asked = trigger

    def stop(self, reason: str = "requested") -> None:
        """Finish the current batch, commit it, and return from :meth:`run`; safe from a signal handler
        (it takes no lock and does no I/O)."""
        self._stop.set(reason)

    def _started(self) -> None:
        config = self.source.config
        self.health.problem("broker", f"waiting for a Kafka broker at {config.bootstrap_servers} to answer")
        self._show_contracts()
        self.health.ready()

    def _between_batches(self) -> None:
        """Reload the contracts if asked or changed, then bring readiness up to date."""
        now = time.monotonic()
        self._resume_asked()
        self._reload_if_asked(now)
        if now >= self._next_probe:
            self._next_probe = now + PROBE_EVERY
            self._probe(now)
        source = self.source
        if source.last_contact is not None and source.last_contact != self._reported_contact:
            self._reported_contact = source.last_contact
            self.health.broker_answered(source.last_contact)
        if source.joined:
            self.health.problem("group", None)
        else:
            group = source.config.group_id
            self.health.problem("group", f"waiting for consumer group {group!r} to assign partitions")

    def _pause_flooded(self) -> None:
        """Pause each partition an alert of the last batch asked to pause (``flood_pause``)."""
        if self.flood is None:
            return
        pauses = self.source.pauses
        for alert in self.flood.take_pauses():
            where = parse_partition(alert.partition or "")
            if not pauses.is_assigned(where) or pauses.is_paused(where):
                continue
            self.source.pause(where)
            pauses.paused(where, alert)
            self.flood.mark_paused(alert)
            _log.warning("flood.partition_paused", partition=partition_name(where), alert_id=alert.alert_id)

    def _resume_asked(self) -> None:
        """Resume what an operator asked to resume; re-arm the guard of those and of released partitions."""
        pauses = self.source.pauses
        for where in pauses.take_resumes():
            if pauses.is_assigned(where):
                self.source.resume(where)
                _log.info("flood.partition_resumed", partition=partition_name(where))
            pauses.resumed(where)
            if self.flood is not None:
                self.flood.release(partition_name(where))
        for where in pauses.take_released():
            if self.flood is not None:
                self.flood.release(partition_name(where))
        for where in pauses.take_returned():  # paused when revoked, assigned again: starts unpaused
            self.source.resume(where)
            _log.info("flood.partition_returned_unpaused", partition=partition_name(where))

    def _reload_if_asked(self, now: float) -> None:
        if self.contracts is None:
            return
        trigger, self._reload_asked = self._reload_asked, None
        if trigger is None and self.watch_interval > 0 and now >= self._next_watch:
            self._next_watch = now + self.watch_interval
            trigger = "watch" if self.contracts.changed() else None
        if trigger is None:
            return
        registry = self.contracts.reload(trigger)
        if registry is not None:
            self.pipeline.registry = registry  # the next batch is judged by it; none is being judged now
        self._show_contracts()

    def _show_contracts(self) -> None:
        if self.contracts is not None:
            self.health.details(**self.contracts.status())
        else:
            registry = self.pipeline.registry
            self.health.details(contracts=len(registry), registry=registry.digest)

    def _probe(self, now: float) -> None:
        """When no broker answered lately (the worker is idle), ask one for metadata and ping the store; a
        busy worker hears from both with every batch."""
        contact = self.source.last_contact
        if contact is not None and now - contact < PROBE_EVERY:
            return
        try:
            self.source.probe(PROBE_TIMEOUT)
        except KafkaClientError as exc:
            self.health.problem("broker", f"no Kafka broker answered within {PROBE_TIMEOUT:.0f} s: {exc}")
        try:
            self.pipeline.store.ping()
        except StoreError as exc:
            self.health.problem("store", f"the store does not answer: {exc}")
        else:
            self.health.problem("store", None)

    def _drain(self, first: list[Envelope]) -> bool:
        """Store, publish and commit ``first``, then each batch already fetched when the one before is being
        written; False when a stop came while a batch could not be stored.

        The batches go through one :meth:`Pipeline.process_stream`: while the last transaction of a batch
        commits, the next batch is polled (without waiting: only what librdkafka has fetched, so only
        with a backlog) and its first transaction decided. Each batch is published and committed once all
        of it is stored, in the order polled. With ``flood_pause`` a batch is committed (and its
        partitions paused) before the next poll, as without a backlog.
        If a write or a publish fails, every batch not yet committed is retried on its own (``_settle``).
        """
        held: deque[list[Envelope]] = deque([first])
        done: list[Outcome] = []
        try:
            with closing(self.pipeline.process_stream(self._parts(held))) as stream:
                for outcomes in stream:
                    done += outcomes
                    if len(done) == len(held[0]):
                        self._publish(done)
                        self._stored(done, 0)
                        self._commit(held.popleft())
                        done = []
        except (StoreError, KafkaClientError) as exc:
            if not self._wait_after(exc, 0, sum(map(len, held))):
                return False
            for batch in held:
                if not self._settle(batch, attempt=1):
                    return False
                self._commit(batch)
        return True

    def _parts(self, held: deque[list[Envelope]]) -> Iterator[Sequence[Envelope]]:
        """The transactions of ``held``'s batch, then of each batch a poll returns at once (appended to
        ``held``), as long as the worker goes on and no flood pause waits for a commit."""
        size = self.pipeline.transaction_size
        batch = held[0]
        while True:
            yield from (batch[start : start + size] for start in range(0, len(batch), size))
            if self._stop.is_set() or (self.flood is not None and self.flood.pause):
                return
            self._between_batches()
            try:
                with self.health.waiting("consuming", WAIT_LIMIT):
                    batch = self.source.poll(timeout=0)
            except KafkaClientError:  # the loop's next poll meets it again, with no batch held
                return
            if not batch:
                return
            held.append(batch)

    def _commit(self, batch: Sequence[Envelope]) -> None:
        """Pause what the flood guard asked to pause, then commit the stored ``batch``'s offsets."""
        self._pause_flooded()
        with self.health.waiting("committing the stored offsets"):
            self.source.ack(batch)

    def _publish(self, outcomes: Sequence[Outcome]) -> None:
        if self.publisher is not None:
            with self.health.waiting("publishing to the output topics"):
                self.publisher.publish(outcomes)

    def _settle(self, batch: Sequence[Envelope], attempt: int = 0) -> bool:
        """Store and publish ``batch``, retrying while the store fails; False when stopped first."""
        while True:
            try:
                outcomes = self._store_and_publish(batch)
            except (StoreError, KafkaClientError) as exc:
                if not self._wait_after(exc, attempt, len(batch)):
                    return False
                attempt += 1
                continue
            self._stored(outcomes, attempt)
            return True

    def _stored(self, outcomes: Sequence[Outcome], attempt: int) -> None:
        if attempt:
            _log.info("store recovered; batch stored", attempts=attempt + 1, messages=len(outcomes))
        self.health.ready()
        self.stats.add(outcomes)
        duplicates = sum(outcome.duplicate for outcome in outcomes)
        _log.debug("batch stored", messages=len(outcomes), duplicates=duplicates)

    def _store_and_publish(self, batch: Sequence[Envelope]) -> list[Outcome]:
        outcomes = self.pipeline.process(batch)
        self._publish(outcomes)
        return outcomes

    def _wait_after(self, exc: Exception, attempt: int, size: int) -> bool:
        """Log the failure, report not-ready and wait the backoff; False when a stop came meanwhile."""
        delay = backoff_delay(attempt, self.retry_initial, self.retry_max)
        what = "stored" if isinstance(exc, StoreError) else "published"
        self.stats.retries += 1
        self.health.not_ready(f"batch not {what}: {exc}")
        _log.error(
            f"batch not {what}; retrying", error=str(exc), attempt=attempt + 1, delay=delay, messages=size
        )
        if self._stop.wait(delay):
            _log.warning("stopping with a batch not stored; it is not committed and will be redelivered")
            return False
        return True

    def _close(self) -> None:
        try:
            if self.publisher is not None:
                self.publisher.close()
        finally:
            self.source.close()
            if self.flood is not None:
                self.flood.close()  # the queued alerts saved (and posted) before the store closes
