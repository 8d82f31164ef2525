"""police.uk crime categories, and the neighbourhood crime types London tracked.

police.uk publishes one category per row (``Crime type``). The seven neighbourhood crime
types of London's policing plans are Home Office offence groups that police.uk merges or
widens; :data:`NEIGHBOURHOOD` says which police.uk category stands for each, and
``docs/analytics.md`` explains what each stand-in over- or under-counts.
"""

from __future__ import annotations

__all__ = ["POLICE_UK_CATEGORIES", "NEIGHBOURHOOD", "NEIGHBOURHOOD_SERIES", "FROM_CRIME_MAPPING", "slug"]

# Every category police.uk has used in street-level files (the first two only before 2013).
POLICE_UK_CATEGORIES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public disorder and weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
    "Violent crime",
)

# London's seven neighbourhood crime types -> the police.uk category that carries them.
NEIGHBOURHOOD = {
    "burglary": "Burglary",
    "criminal damage": "Criminal damage and arson",
    "robbery": "Robbery",
    "theft from a motor vehicle": "Vehicle crime",
    "theft of a motor vehicle": "Vehicle crime",
    "theft from the person": "Theft from the person",
    "violence with injury": "Violence and sexual offences",
}
# The distinct police.uk series that carry them (vehicle crime carries two types), in a fixed order.
NEIGHBOURHOOD_SERIES = tuple(dict.fromkeys(NEIGHBOURHOOD.values()))

# The crime-mapping types of tagwatch's correlation (ingest/crimes.py) -> police.uk category.
FROM_CRIME_MAPPING = {
    "RB": "Robbery",
    "BIAD": "Burglary",
    "AB": "Burglary",
    "BOTD": "Burglary",
    "TOMV": "Vehicle crime",
    "TFMV": "Vehicle crime",
    "TFP": "Theft from the person",
}


def slug(category: str) -> str:
    """A short column-friendly name: 'Criminal damage and arson' -> 'criminal_damage_and_arson'."""
    return "".join(ch if ch.isalnum() else "_" for ch in category.lower()).strip("_").replace("__", "_")
