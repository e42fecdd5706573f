"""``python -m sigma_aetl``: the same command line as the ``sigma-aetl`` script."""

from sigma_aetl.cli.app import main

if __name__ == "__main__":
    main()
