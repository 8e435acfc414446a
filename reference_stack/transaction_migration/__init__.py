"""The multi-region transaction migration app, in a `reference` and a `flawed` variant."""
