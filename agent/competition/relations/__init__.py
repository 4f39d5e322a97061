"""Competitions with several tables: side tables related to train and test with evidence, their features
computed in DuckDB, joined through one index that serving uses too (docs/several-tables.md).

`keys` (keys compared across tables), `spec` (a relation as a model reads it: `Join`), `declared`
(competition.yaml's `relations:`), `discover` (relations found with evidence), `features` (the SQL of each
kind of feature), `build` (the whole, bounded and recorded), `index` (the joins at work: numpy and pandas only,
what `podium predict` and `serve` load).
"""

from agent.competition.relations.index import Joiner
from agent.competition.relations.spec import Join

__all__ = ["Join", "Joiner"]
