"""Traffic Light Protocol levels and the STIX marking definitions that carry them.

Two generations of TLP reach a node:

- TLP 1.0 (WHITE, GREEN, AMBER, RED): the four marking definitions STIX 2.1
  predefines in §7.2.1.4 ("TLP Marking"), with fixed ids that every producer
  uses (MISP, OpenCTI, ATT&CK tooling).
- TLP 2.0 (CLEAR, GREEN, AMBER, AMBER+STRICT, RED): FIRST's 2022 revision,
  published for STIX 2.1 by OASIS as the property extension
  ``extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`` with one
  marking definition per level (oasis-open/cti-stix-common-objects,
  ``extension-definition-specifications/tlp-2.0``).

TLP 1.0 WHITE is TLP 2.0 CLEAR; the other TLP 1.0 levels map to the TLP 2.0
level of the same name. An object may carry several TLP markings (a producer
that adds the 2.0 one beside the 1.0 one); the strictest one counts.

The levels live here, in the STIX envelope, because `prepare` records each
version's level for the store (``Record.tlp``); `accord.policy` decides with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class Tlp(IntEnum):
    """TLP 2.0 levels, ordered from the most open to the most restricted."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    def __bool__(self) -> bool:
        # A level is a level: CLEAR (0) must not read as "no level" in `level or default`.
        return True

    @property
    def label(self) -> str:
        """The level as FIRST writes it: ``TLP:AMBER+STRICT``."""
        return "TLP:" + self.name.replace("_", "+")

    @classmethod
    def parse(cls, text: str) -> Tlp:
        """A level from ``clear``, ``TLP:GREEN``, ``amber+strict``, ``white`` (TLP 1.0)...

        Raises:
            ValueError: no such level.
        """
        word = text.strip().upper().removeprefix("TLP:").replace("+", "_").replace("-", "_")
        if word == "WHITE":
            return cls.CLEAR
        try:
            return cls[word]
        except KeyError:
            raise ValueError(
                f"{text!r} is no TLP level (clear, green, amber, amber+strict, red; white)"
            ) from None


# STIX 2.1 §7.2.1.4: the predefined TLP 1.0 marking definitions.
TLP1_IDS: dict[str, Tlp] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}

# The TLP 2.0 extension definition's marking definitions (cti-stix-common-objects, tlp-2.0).
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_IDS: dict[str, Tlp] = {
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": Tlp.CLEAR,
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": Tlp.GREEN,
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": Tlp.AMBER,
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": Tlp.AMBER_STRICT,
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": Tlp.RED,
}

TLP_IDS: dict[str, Tlp] = {**TLP1_IDS, **TLP2_IDS}

# The id a copy is marked with when a level must be written (TLP 2.0 ones).
TLP2_ID_OF: dict[Tlp, str] = {level: mid for mid, level in TLP2_IDS.items()}


def tlp_of_refs(refs: Iterable[object]) -> Tlp | None:
    """The strictest TLP level among marking references (``None``: no TLP marking).

    Args:
        refs: marking-definition ids (an object's ``object_marking_refs``);
            anything that is no TLP marking's id is passed over.
    """
    found: Tlp | None = None
    for ref in refs:
        level = TLP_IDS.get(ref) if isinstance(ref, str) else None
        if level is not None and (found is None or level > found):
            found = level
    return found
