"""The body deadline: a step that finishes without waiting arms no timer; one that waits is bounded."""

import asyncio
import inspect

import pytest

from sigma_aetl.http.body import Deadline


async def ready() -> bytes:
    """A receive whose message is already there."""
    return b"whole"


async def after(seconds: float, value: bytes = b"late") -> bytes:
    """A receive that waits ``seconds`` first."""
    await asyncio.sleep(seconds)
    return value


async def failing_after_a_wait() -> bytes:
    """A receive that waits, then fails."""
    await asyncio.sleep(0)
    raise ConnectionError("gone")


def test_a_step_that_does_not_wait_arms_no_timer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A message already received is returned without asyncio.timeout_at ever being entered."""
    entered: list[float] = []
    real = asyncio.timeout_at

    def spy(when: float) -> asyncio.Timeout:
        entered.append(when)
        return real(when)

    monkeypatch.setattr(asyncio, "timeout_at", spy)

    async def scenario() -> bytes:
        return await Deadline(0.0).within(ready())

    assert asyncio.run(scenario()) == b"whole"
    assert entered == []


def test_a_step_that_waits_past_the_deadline_times_out() -> None:
    """A receive still waiting when the deadline passes raises TimeoutError, and its coroutine is closed."""
    step = after(5.0)

    async def scenario() -> None:
        await Deadline(0.05).within(step)

    with pytest.raises(TimeoutError):
        asyncio.run(scenario())
    assert inspect.getcoroutinestate(step) == inspect.CORO_CLOSED  # cancelled inside, not left suspended


def test_a_step_that_waits_within_the_deadline_returns_its_value() -> None:
    """A receive that waits a little, well within the deadline, returns what it received."""

    async def scenario() -> bytes:
        return await Deadline(5.0).within(after(0.01, b"in time"))

    assert asyncio.run(scenario()) == b"in time"


def test_an_error_after_a_wait_reaches_the_caller() -> None:
    """A receive that fails after waiting raises its own error through the deadline."""

    async def scenario() -> bytes:
        return await Deadline(5.0).within(failing_after_a_wait())

    with pytest.raises(ConnectionError, match="gone"):
        asyncio.run(scenario())


def test_cancelling_the_request_cancels_the_waiting_step() -> None:
    """A request task cancelled while its receive waits ends cancelled, and so does the receive."""
    step = after(5.0)

    async def scenario() -> None:
        task = asyncio.get_running_loop().create_task(Deadline(10.0).within(step))
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert inspect.getcoroutinestate(step) == inspect.CORO_CLOSED


def test_an_awaitable_that_is_no_coroutine_is_still_bounded() -> None:
    """A future (not a coroutine) that never completes times out as before."""

    async def scenario() -> None:
        await Deadline(0.05).within(asyncio.get_running_loop().create_future())

    with pytest.raises(TimeoutError):
        asyncio.run(scenario())
