"""Programs behind the nox sessions: patch queue, stack build, smoke run."""
