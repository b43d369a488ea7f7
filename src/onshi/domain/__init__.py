"""Pure values and calculations: no I/O, no framework, no database."""
