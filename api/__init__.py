"""Machine-to-machine APIs (no browser session): the FHIR R4 API at /fhir/R4."""
