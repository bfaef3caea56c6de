"""A time zone's name as a patron reads it: "Central Time", not "America/Chicago".

Python has the zones (zoneinfo) but not their everyday names, which live in
CLDR; the zones libraries here are likeliest to be in are named below, each
translated, and any other zone falls back to its city ("Lisbon time").
"""

from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy

ZONE_NAMES: dict[str, Promise] = {
    "America/New_York": gettext_lazy("Eastern Time"),
    "America/Detroit": gettext_lazy("Eastern Time"),
    "America/Toronto": gettext_lazy("Eastern Time"),
    "America/Chicago": gettext_lazy("Central Time"),
    "America/Winnipeg": gettext_lazy("Central Time"),
    "America/Mexico_City": gettext_lazy("Central Time"),
    "America/Denver": gettext_lazy("Mountain Time"),
    "America/Edmonton": gettext_lazy("Mountain Time"),
    "America/Phoenix": gettext_lazy("Mountain Time (Arizona)"),
    "America/Los_Angeles": gettext_lazy("Pacific Time"),
    "America/Vancouver": gettext_lazy("Pacific Time"),
    "America/Anchorage": gettext_lazy("Alaska Time"),
    "Pacific/Honolulu": gettext_lazy("Hawaii Time"),
    "America/Halifax": gettext_lazy("Atlantic Time"),
    "America/St_Johns": gettext_lazy("Newfoundland Time"),
    "America/Puerto_Rico": gettext_lazy("Atlantic Time"),
    "Europe/London": gettext_lazy("UK Time"),
    "Europe/Dublin": gettext_lazy("Irish Time"),
    "Europe/Lisbon": gettext_lazy("Western European Time"),
    "Europe/Berlin": gettext_lazy("Central European Time"),
    "Europe/Paris": gettext_lazy("Central European Time"),
    "Europe/Madrid": gettext_lazy("Central European Time"),
    "Europe/Rome": gettext_lazy("Central European Time"),
    "Europe/Amsterdam": gettext_lazy("Central European Time"),
    "Europe/Brussels": gettext_lazy("Central European Time"),
    "Europe/Vienna": gettext_lazy("Central European Time"),
    "Europe/Zurich": gettext_lazy("Central European Time"),
    "Europe/Stockholm": gettext_lazy("Central European Time"),
    "Europe/Oslo": gettext_lazy("Central European Time"),
    "Europe/Copenhagen": gettext_lazy("Central European Time"),
    "Europe/Warsaw": gettext_lazy("Central European Time"),
    "Europe/Helsinki": gettext_lazy("Eastern European Time"),
    "Europe/Athens": gettext_lazy("Eastern European Time"),
    "UTC": gettext_lazy("Coordinated Universal Time"),
    "Etc/UTC": gettext_lazy("Coordinated Universal Time"),
}


def zone_label(name: str) -> str:
    """The zone's everyday name in the active language."""
    if name in ZONE_NAMES:
        return str(ZONE_NAMES[name])
    city = name.rsplit("/", 1)[-1].replace("_", " ")
    return gettext("%(city)s time") % {"city": city}
