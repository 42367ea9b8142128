"""Tortoise models, one module per aggregate. `MODEL_MODULES` is what Tortoise loads."""

MODEL_MODULES = [
    'models.practice',
    'models.staff',
    'models.patient',
    'models.portal_account',
    'models.sessions',
    'models.prescription',
    'models.verification',
    'models.consent',
    'models.appointment',
    'models.billing',
    'models.outbox',
    'models.audit',
    'models.api_client',
    'models.csv_import',
]
