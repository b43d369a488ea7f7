"""The ways in: HTTP JSON API, command line, (later) XML files, FHIR and pages."""
