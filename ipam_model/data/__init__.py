"""Data files shipped with the package (JSON Schema, Go's math/rand seed table)."""
