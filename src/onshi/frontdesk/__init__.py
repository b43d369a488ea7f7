"""The decision for one patient at one desk (RULES section F), from a visit, what the patient
brings, a registry lookup port and the policy in force. Pure given its inputs."""

from .engine import Decision, LookupPort, Patient, Visit, decide

__all__ = ["Decision", "LookupPort", "Patient", "Visit", "decide"]
