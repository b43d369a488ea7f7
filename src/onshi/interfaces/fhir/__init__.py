"""FHIR R4 (JP Core): Coverage, Patient, Organization and CoverageEligibilityRequest/Response
over the registry's lookups."""
