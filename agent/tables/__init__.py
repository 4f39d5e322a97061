"""Tables wherever they live: CSV and Parquet files, PostgreSQL, SQLite and DuckDB tables or queries.

`read_table` / `read` (read.py) is the one reader every command uses; `write_table` (write.py) writes
predictions to a file or a database table atomically; `redact` (secrets.py) keeps passwords out of everything
shown or stored. `location` parses what a user typed, `files` reads files, `database` reads a query within
bounds, `drivers` hides the drivers (imported only when a database is used), `frames` turns Arrow into pandas
keeping types, `decompress` bounds compressed files.

Imported by agent.competition, agent.runtime, the services, the arena and the Kaggle client; imports the
foundation only (tests/test_architecture.py).
"""

from agent.tables.database import Read
from agent.tables.location import Location, in_database, is_database_url, is_url, parse_database, parse_location
from agent.tables.read import read, read_table
from agent.tables.secrets import redact
from agent.tables.write import check_output, write_table

__all__ = ["Location", "Read", "check_output", "in_database", "is_database_url", "is_url", "parse_database",
           "parse_location", "read", "read_table", "redact", "write_table"]
