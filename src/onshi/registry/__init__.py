"""The central system: tables, migrations, insurer operations, linkage checks, lookups, audit."""
