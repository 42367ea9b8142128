"""CSV import of records from the practice's existing system: reading a file, mapping its columns,
matching rows to the records on file, and applying them as a resumable background job.

Modules: `reading` (bytes -> rows), `rows` (the shared words: field, action, row plan), `kinds` (the
registry: one module per kind of record, and how a kind plugs in), `mapping` (columns -> fields,
remembered per kind, templates), `patients` (plan and apply patient rows through the patient service's
rules), `jobs` (the job: claim, run in chunks, resume, review of held rows).
"""
