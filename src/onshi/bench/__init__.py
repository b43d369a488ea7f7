"""Benchmarks (`onshi bench …`). Speed is measured here, never asserted in tests."""


def percentile(sorted_values, q: float):  # noqa: ANN001, ANN201 - ints or floats
    """The nearest-rank percentile of already sorted values (q a fraction: 0.99), None if empty:
    the one definition every bench reports."""
    if not sorted_values:
        return None
    import math

    return sorted_values[min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))]
