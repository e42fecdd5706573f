"""Evolution tooling: shapes, diffs, the compatibility check between versions, scaffolding a new version."""
