"""Area analytics: police.uk street-level crime, the community safety index, trends, the pilot's effect.

Pure functions over columns; the store and the CLI live elsewhere. statsmodels is imported
only by :mod:`tagwatch.areas.trends` and :mod:`tagwatch.areas.did`, when called.
"""

from .categories import NEIGHBOURHOOD, NEIGHBOURHOOD_SERIES, POLICE_UK_CATEGORIES
from .policeuk import PoliceUkFile, read_police_uk

__all__ = ["NEIGHBOURHOOD", "NEIGHBOURHOOD_SERIES", "POLICE_UK_CATEGORIES", "PoliceUkFile", "read_police_uk"]
