"""The FHIR R4 API's mapping between FHIR resources (parsed by `fhir.resources`, R4B models) and our records.

Every write goes through the console's services and their rules; this package only translates. The
extension URLs and the status mapping are documented in docs/fhir.md.
"""
