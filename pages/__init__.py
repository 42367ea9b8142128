"""NiceGUI pages: thin, they call services. `staff` and `patient` are the two route trees."""
