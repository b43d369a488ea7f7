"""Tests of the pure domain layer (src/onshi/domain). Each test names the RULES.md rule it checks."""
