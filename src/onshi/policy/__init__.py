"""Dated rules as data (OpenFisca-style): YAML files in data/ whose entries carry their
period and their source notice; `load_policy().at(day)` answers what is in force that day.

Operators add notices without code: every YAML file in the directories of ONSHI_POLICY_DIR
(separated by os.pathsep) is merged after the built-in data — its entries are added to the
rules of the same name, its sources to the sources.
"""

from .loader import Entry, Policy, PolicyError, Snapshot, Source, load_policy

__all__ = ["Entry", "Policy", "PolicyError", "Snapshot", "Source", "load_policy"]
