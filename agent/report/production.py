"""The production model: the model card's headline, the frontier picture and every candidate measured."""

from __future__ import annotations

from agent.report import fmt
from agent.report.document import Figure, Section, Table, Text
from agent.report.inputs import CANDIDATES, CARD, FRONTIER, RunInputs

FRONTIER_PNG = "production_frontier.png"


def not_produced_reason(inputs: RunInputs) -> str:
    """Why there is no production model, from the manifest's record of the production phase."""
    m = inputs.manifest
    record = m.get("production")
    if isinstance(record, dict) and record.get("error"):
        error = record["error"]
        text = error.get("message") if isinstance(error, dict) else error
        return f"the production phase failed: {fmt.plain(text, 400)}"
    phase = fmt.mapping(fmt.mapping(m.get("phases")).get("production"))
    if phase.get("status") == "failed":
        return "the production phase failed (see the run's error above and podium.log)"
    if inputs.production_dir is None:
        return "the run directory has no production/ folder"
    return inputs.problem(CARD, f"{CARD} is missing from {inputs.production_dir.name}/")


def production_section(inputs: RunInputs) -> Section:
    section = Section("Production model", "production")
    card = inputs.card
    if card is None:
        section.add(Text(f"Production model: not produced ({not_produced_reason(inputs)}).", "missing"))
    else:
        section.add(*_headline(card))
    if inputs.frontier_png is not None:
        section.add(Figure(FRONTIER_PNG, inputs.frontier_png, alt="Production candidates: validation score "
                           "against one-row p99 latency, marker area by size, budgets marked",
                           caption="The production frontier (production/frontier.png): each candidate's score "
                                   "against its latency; the star is the chosen model"))
    elif inputs.production_dir is not None:
        section.add(Text(f"Frontier picture: {inputs.problem(FRONTIER, 'not produced')}.", "missing"))
    section.add(*_candidates_blocks(inputs))
    return section


def _headline(card: dict) -> list:
    model, validation = fmt.mapping(card.get("model")), fmt.mapping(card.get("validation"))
    board, budgets = fmt.mapping(card.get("leaderboard")), fmt.mapping(card.get("budgets"))
    within = budgets.get("within_budget")
    budget_text = (f"p99 <= {fmt.ms(budgets.get('latency_ms_p99'))}, size <= {fmt.size(budgets.get('size_bytes'))}"
                   + (f", >= {fmt.rate(budgets.get('throughput_rows_s'))}" if budgets.get("throughput_rows_s")
                      else ""))
    verdict = {True: "met", False: "NOT met on re-measurement"}.get(within, "unknown")
    blocks: list = [Text(
        f"Chosen: {fmt.plain(model.get('name'))} ({fmt.plain(model.get('family'))}), "
        f"{fmt.plain(validation.get('metric'))} {fmt.score(validation.get('score'))} "
        f"({fmt.plain(validation.get('method') or validation.get('score_source'))}). "
        f"Against the leaderboard model's {fmt.score(board.get('score'))}: score given up "
        f"{fmt.signed(board.get('score_given_up'))} (positive is worse). Budgets {budget_text}: {verdict}.")]
    unstacked = fmt.mapping(board.get("unstacked"))
    if unstacked:
        blocks.append(Text(
            f"The leaderboard model stacks, so its out-of-fold score flatters it. Against the best candidate that "
            f"does not stack ({fmt.plain(unstacked.get('name'))}, {fmt.score(unstacked.get('score'))}) the "
            f"production model gives up {fmt.signed(unstacked.get('score_given_up'))}.", "note"))
    if model.get("note"):
        blocks.append(Text(f"Note: {fmt.plain(model.get('note'), 400)}", "note"))
    return blocks


def _candidates_blocks(inputs: RunInputs) -> list:
    data = inputs.candidates
    if data is None:
        if inputs.production_dir is None:
            return []
        return [Text(f"Production candidates: {inputs.problem(CANDIDATES, 'not produced')}.", "missing")]
    chosen = data.get("chosen")
    rows, classes = [], []
    for c in data.get("candidates") or []:
        if not isinstance(c, dict):
            continue
        latency = fmt.mapping(c.get("latency"))
        name = fmt.plain(c.get("name"), 80) + (" (chosen)" if c.get("name") == chosen else "")
        fits = {True: "yes", False: "no"}.get(c.get("within_budget"), fmt.DASH)
        rows.append((name, fmt.plain(c.get("family")), fmt.plain(c.get("status")), fmt.score(c.get("score")),
                     fmt.ms(latency.get("p99_ms")), fmt.rate(latency.get("throughput_rows_s")),
                     fmt.size(c.get("size_bytes")), fits, fmt.plain(c.get("note"), 160) if c.get("note") else ""))
        classes.append("chosen" if c.get("name") == chosen else ("failed" if c.get("status") == "failed" else ""))
    if not rows:
        return [Text("Production candidates: none recorded.", "missing")]
    metric = fmt.plain(data.get("metric"))
    return [Table(("candidate", "family", "status", metric, "p99, one row", "rows/s, batch", "size", "in budget",
                   "note"), rows, caption=f"{len(rows)} production candidates (production/candidates.json)",
                  row_classes=tuple(classes), numeric=(3, 4, 5, 6))]
