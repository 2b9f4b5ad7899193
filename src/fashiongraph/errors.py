"""The project's exception and warning classes.

Every error message names the input (file, column, row or parameter), the rule that was broken
and what was found, e.g. ``"transactions.csv: column 't_dat' row 17: cannot parse date (got '2020-13-01')"``.
"""


class FashionGraphError(Exception):
    """Base class of every error fashiongraph raises on purpose."""


class DataError(FashionGraphError, ValueError):
    """An input table breaks a rule of the H&M format that cannot be fixed safely."""


class ConfigError(FashionGraphError, ValueError):
    """A parameter is out of its allowed range or of the wrong kind."""


class GraphError(FashionGraphError):
    """The knowledge graph cannot serve the request (empty, wrong type, mismatched)."""


class NotFittedError(FashionGraphError):
    """A recommender was asked to recommend before ``fit``."""


class ModelError(FashionGraphError):
    """A trained model or embedding is unusable (NaN vectors, mismatched graph, bad file)."""


class EngineError(FashionGraphError):
    """An engine (embedded or Neo4j) cannot run: unreachable, misconfigured, missing plug-in."""


class UnknownIdError(FashionGraphError, LookupError):
    """A customer or article id is not in the run's tables (the API answers 404)."""


class DataFixWarning(UserWarning):
    """Near-miss input was converted once at the boundary; the message says what and how many."""
