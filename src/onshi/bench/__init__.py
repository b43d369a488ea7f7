"""Benchmarks (`onshi bench …`). Speed is measured here, never asserted in tests."""
