"""The dependency-free core every runtime shares: the error base, settings, atomic files and the CLI wrapper.

Standard library only, and a leaf: it imports nothing from ``scripts`` or
``extensions``, so the host-side tooling runs before ``.venv`` exists and a
command's ``--help`` loads no part of the stack.
"""
