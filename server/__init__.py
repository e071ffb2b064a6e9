"""The local HTTP server for the darktable plugin (FastAPI); nothing imports it."""
