"""podium's shipped settings, as package data: `default.yaml`, the Optuna search spaces, the batch example.

This folder is where a person edits them in a checkout; an installed podium (wheel or editable) reads them
from here through `importlib.resources`, never from a path relative to the working directory.
"""
