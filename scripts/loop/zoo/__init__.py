"""nox -s zoo: build, train, predict and export every upstream model family (see __main__)."""
