"""pytest plugin (registered through the ``pytest11`` entry point): sandbox fixtures.

Placeholder until the sandbox server lands; the fixtures are added by its owner.
"""
