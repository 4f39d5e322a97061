"""submission.csv through a run: written as soon as a candidate has test predictions, replaced whenever a
better one (out of fold) arrives, so that a valid submission exists from the first minute on."""

from __future__ import annotations

import logging

from agent.competition.dataset import Dataset
from agent.competition.inference import Competition
from agent.competition.submission import build_submission, write_submission
from agent.competition.tables import CompetitionData
from agent.run.planner import FIRST_SUBMISSION
from agent.rundir import Run

log = logging.getLogger("podium.pipeline")


class Submissions:
    """submission.csv, replaced atomically whenever a candidate beats the one written; each one recorded."""

    def __init__(self, run: Run, plan, competition: Competition, data: CompetitionData, dataset: Dataset):
        self.run, self.plan, self.competition, self.data, self.dataset = run, plan, competition, data, dataset
        self.best: float | None = None

    def offer(self, candidates) -> None:
        """Write the best of `candidates` if it scores better out of fold than what is written."""
        metric = self.competition.metric
        ready = [c for c in candidates if c.test is not None]
        if not ready:
            return
        candidate = max(ready, key=lambda c: metric.signed(c.score))
        if self.best is not None and metric.signed(candidate.score) <= self.best:
            return
        frame = build_submission(self.competition, self.data.sample_submission, self.dataset.test_ids,
                                 candidate.test, threshold=candidate.decision_threshold)
        path = write_submission(frame, self.competition, self.data.sample_submission, self.run.file("submission.csv"))
        self.best = metric.signed(candidate.score)
        record = {"at_seconds": round(self.plan.now(), 3), "source": candidate.name, "oof_score": candidate.score}
        written = self.run.manifest.get("submissions", [])
        if not written:
            deadline = self.plan.pieces[FIRST_SUBMISSION].deadline
            self.plan.pieces[FIRST_SUBMISSION].actual = {
                "start": self.plan.pieces[FIRST_SUBMISSION].start, "end": record["at_seconds"],
                "status": "done" if record["at_seconds"] <= deadline else "overran", "note": candidate.name}
        log.info("Wrote submission.csv from %s (OOF %s %.5g) at %.1f s", candidate.name,
                 self.competition.metric_name, candidate.score, record["at_seconds"])
        self.run.update(submissions=[*written, record], plan=self.plan.to_dict(),
                        artifacts={**self.run.manifest.get("artifacts", {}), "submission": str(path),
                                   "models": str(self.run.file("models")), "log": str(self.run.file("podium.log")),
                                   "config": str(self.run.file("config.yaml"))})
