"""The programs behind the nox sessions, one sub-package per runtime.

- ``scripts.stack``: host Python, standard library only, before ``.venv`` exists:
  pins, artifacts, forks and the patch queue, rebase, the environment build, workspace links.
- ``scripts.loop``: runs in ``.venv``, one package per command (train, evaluate, deploy, demo, smoke, infer,
  autolabel, zoo) and ``common`` for what they share.
- ``scripts.data``: data tools that use ``extensions``: generators and converters.

The leaf package ``mmlab_core`` (errors, settings, atomic files, the CLI wrapper) is shared by all three.
Host-side code never imports ``scripts.loop`` or ``scripts.data``.
"""
