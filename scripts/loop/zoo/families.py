"""Every zoo family, mmdet3d's (families_3d.py) then mmdet's (families_2d.py), and lookup by name
(``probe`` runs one, ``matrix`` runs them all; family.py says what a family holds)."""

from __future__ import annotations

from scripts.loop.zoo.deploy_3d import with_export_facts
from scripts.loop.zoo.families_2d import FAMILIES_2D
from scripts.loop.zoo.families_3d import FAMILIES_3D
from scripts.loop.zoo.family import Family

FAMILIES = tuple(map(with_export_facts, FAMILIES_3D)) + FAMILIES_2D  # deploy_3d: mmdeploy's task, or why none


def by_name(name: str) -> Family:
    """The family called ``name`` (case-insensitive); KeyError lists the names."""
    for family in FAMILIES:
        if family.name.lower() == name.lower():
            return family
    raise KeyError(f"no zoo family {name!r}; the families are: {', '.join(f.name for f in FAMILIES)}")
