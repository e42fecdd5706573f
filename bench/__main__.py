"""``python -m bench``: the benchmark command line (see ``python -m bench --help``)."""

from bench.cli import main

if __name__ == "__main__":
    main()
