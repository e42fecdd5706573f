"""The pure core: parsing, validation, identifiers and records. No I/O, no settings, no clocks."""
