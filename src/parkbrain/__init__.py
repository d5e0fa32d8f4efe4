"""ParkBrain (园区大脑): an open-source data and AI platform for industrial parks.

>>> from parkbrain import Park
>>> park = Park(memory=True)
"""

from parkbrain.core import DEFAULT_DB, Park
from parkbrain.errors import (
    ConfigError,
    DatabaseLocked,
    InvalidInput,
    NotFound,
    ParkError,
    QueryError,
    SchemaError,
    StoreError,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_DB",
    "ConfigError",
    "DatabaseLocked",
    "InvalidInput",
    "NotFound",
    "Park",
    "ParkError",
    "QueryError",
    "SchemaError",
    "StoreError",
    "__version__",
]
