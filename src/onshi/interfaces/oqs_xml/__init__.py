"""The facility XML interface (shared/domain/OQS-XML.md): codec and code tables, the
folder terminal, and the same messages over HTTP."""
