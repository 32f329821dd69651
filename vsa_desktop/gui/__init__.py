"""The PySide6 desktop app: widgets, workers and wiring over ``vsa_desktop.core``."""
