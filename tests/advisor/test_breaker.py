"""The circuit breaker: closed, open after N failures in a row, one trial after the cooldown."""

from sigma_aetl.advisor.breaker import CircuitBreaker


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        """The time it was set to."""
        return self.now


def test_consecutive_failures_open_the_breaker_and_a_success_resets_the_count() -> None:
    """Threshold failures in a row open it; a success in between starts the count again."""
    clock = Clock()
    breaker = CircuitBreaker(3, 10.0, clock)
    for outcome in ("fail", "fail", "ok", "fail", "fail"):
        breaker.failed() if outcome == "fail" else breaker.succeeded()
    assert (breaker.state, breaker.room(4, 1)) == ("closed", 3)
    breaker.failed()
    assert (breaker.state, breaker.room(4, 0)) == ("open", 0)


def test_after_the_cooldown_one_trial_closes_or_reopens_it() -> None:
    """Half-open lets exactly one call start; its failure reopens the breaker, its success closes it."""
    clock = Clock()
    breaker = CircuitBreaker(1, 10.0, clock)
    breaker.failed()
    clock.now = 9.9
    assert (breaker.state, breaker.room(4, 0)) == ("open", 0)
    clock.now = 10.0
    assert (breaker.state, breaker.room(4, 0)) == ("half-open", 1)
    breaker.started()
    assert breaker.room(4, 1) == 0
    breaker.failed()
    assert (breaker.state, breaker.reopens_in()) == ("open", 10.0)
    clock.now = 20.0
    breaker.started()
    breaker.succeeded()
    assert (breaker.state, breaker.room(4, 0)) == ("closed", 4)
