"""NiceGUI pages: thin, they call services. `staff` and `patient` are the two route trees."""

import portal.ids  # noqa: F401  registers the `{name:id}` path convertor before any route is declared
