"""What every part receives: the options, and the load generator (chosen once, only if a part needs one)."""

from dataclasses import dataclass, field

from bench import loadgen
from bench.options import Options


@dataclass
class Context:
    """The run's options and shared, lazily built tools."""

    options: Options
    _generator: loadgen.Generator | None = field(default=None, repr=False)

    def generator(self) -> loadgen.Generator:
        """The HTTP load generator (installs wrk on first use when allowed)."""
        if self._generator is None:
            self._generator = loadgen.choose(self.options.loadgen, install=self.options.install)
        return self._generator
