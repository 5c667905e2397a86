"""Sources: one module per API, registered by name in `registry.py`."""
