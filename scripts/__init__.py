"""The programs behind the nox sessions, one sub-package per runtime.

- ``scripts.stack``: host Python, standard library only, before ``.venv`` exists:
  pins, artifacts, forks and the patch queue, rebase, the environment build, workspace links.
- ``scripts.loop``: runs in ``.venv``: train, evaluate, deploy, parity, tracking, demo, benchmarks.
- ``scripts.data``: data tools that use ``extensions``: generators and converters.

``mmlab_core.settings`` and ``mmlab_core.cli`` are shared by all three (standard library only).
Host-side code never imports ``scripts.loop`` or ``scripts.data``.
"""
