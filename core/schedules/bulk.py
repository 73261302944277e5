"""Set-based writes for the fleet-sized paths (marking distributed, ack batches).

An executemany UPDATE binds and converts every column of every row in Python (SQLAlchemy builds the
parameters row by row): 10,000 deliveries moved to the same state cost ~0.2 s that way. Rows that get the same
new values are one `UPDATE ... WHERE id IN (...)` per chunk instead; at fleet scale nearly all of them do.
The statements are built once (`by_ids`), with an expanding `ids` parameter: building `col.in_(chunk)` anew
coerces every key in Python and misses the compiled-statement cache.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator

from sqlalchemy import Connection, Table, Update, bindparam

CHUNK = 400  # keys per IN query: well under SQLite's and PostgreSQL's parameter limits


def chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    """`items` in slices of `size`, for IN queries."""
    for first in range(0, len(items), size):
        yield items[first:first + size]


def by_ids(table: Table, **values) -> Update:
    """UPDATE `table` SET `values` (bind parameters or SQL expressions) WHERE id IN (:ids)."""
    return table.update().where(table.c.id.in_(bindparam("ids", expanding=True))).values(**values)


def update_by_groups(conn: Connection, statement: Update, rows: Iterable[tuple[int, Hashable]],
                     params_of: Callable[[Hashable], dict]) -> int:
    """Run `statement` (from by_ids) for each (id, key): rows sharing a key in one execution per chunk of ids,
    with the parameters `params_of(key)`. Returns how many statements ran."""
    ids_of: dict[Hashable, list[int]] = defaultdict(list)
    for row_id, key in rows:
        ids_of[key].append(row_id)
    statements = 0
    for key, ids in ids_of.items():
        params = params_of(key)
        for chunk in chunks(sorted(ids)):
            conn.execute(statement, {**params, "ids": chunk})
            statements += 1
    return statements
