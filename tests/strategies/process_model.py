"""A model for AutoGluon fits in tests: it predicts a constant and remembers the process that fitted it.

A module of its own because Ray's fold workers unpickle it by name."""

from __future__ import annotations

import os

from autogluon.core.models.dummy.dummy_model import DummyModel


class ProcessRecordingModel(DummyModel):
    def _fit(self, **kwargs):
        super()._fit(**kwargs)
        self.fitted_pid = os.getpid()
