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


class ParameterError(ConfigError):
    """A request parameter breaks its rule; the API answers 422 naming ``parameter``.

    Attributes:
        parameter: the parameter's name as a request spells it (``k``, ``method``).
        location: where the request carries it: ``"query"`` or ``"path"``.
    """

    def __init__(self, parameter: str, message: str, *, location: str = "query"):
        super().__init__(message)
        self.parameter = parameter
        self.location = location


class GraphError(FashionGraphError):
    """The knowledge graph cannot serve the request (empty, wrong type, mismatched)."""


class NotFittedError(FashionGraphError):
    """A recommender was asked to recommend before ``fit``."""


class ModelError(FashionGraphError):
    """A trained model or embedding is unusable (NaN vectors, mismatched graph, bad file)."""


class EngineError(FashionGraphError):
    """An engine (embedded or Neo4j) cannot run: unreachable, misconfigured, missing plug-in."""


class UnknownIdError(FashionGraphError, LookupError):
    """A customer or article id is not in the run's tables (the API answers 404).

    Attributes:
        parameter: which id was not found: ``customer_id`` or ``article_id``.
    """

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter


class DataFixWarning(UserWarning):
    """Near-miss input was converted once at the boundary; the message says what and how many."""
