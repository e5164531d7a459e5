"""The ML loop: runs in the stack environment (.venv)."""
