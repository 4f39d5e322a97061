"""AutoGluon's features as podium's encoder reproduces them from raw rows, for its level-1 models served without it.

AutoGluon's feature pipeline keeps numbers as they are; fills a missing text value with its fill value (`''`:
`FillNaFeatureGenerator`); codes a category as its position in the category map of its
`CategoryFeatureGenerator` (rare and unseen values become missing); and turns a two-valued column into 1 for its
"true" value and 0 for anything else (`AsTypeFeatureGenerator`). Each model then codes the
categories its own way (a LightGBM booster by its category order, CatBoost by its own mapping); the caller says
how. A text column's statistics and n-grams are recomputed from the raw text (agent/runtime/autogluon_text.py).
Anything else (date parts AutoGluon made, a model's own preprocessing) is not reproduced: `Unservable`, with the
reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from agent.columns import autogluon_name, with_encoded_names
from agent.competition.dataset import Dataset
from agent.competition.inference import Competition
from agent.runtime.autogluon_text import AutoGluonText, NGrams, TextStatistic
from agent.runtime.encoder import Encoder
from agent.runtime.schema import CATEGORICAL, NUMERIC, ColumnSchema, Schema, category_key
from strategies.production.problem import Problem

SAMPLE_ROWS = 1000  # rows the pipeline transforms to show each feature's type
NO_VALUE = "\x00"  # a key no value reads as: the place of a code nothing but a missing value reaches


class Unservable(ValueError):
    """A model whose features podium's encoder cannot reproduce from raw rows."""


class AutoGluonFeatures:
    """AutoGluon's fitted feature pipeline, as far as podium needs it."""

    def __init__(self, sample: pd.DataFrame, true_values: dict[str, Any], categories: dict[str, list],
                 filled: set[str], fill_values: dict[str, Any], raw_of: dict[str, str],
                 text: AutoGluonText | None = None, text_refused: str | None = None):
        self.sample, self.true_values, self.categories, self.filled = sample, true_values, categories, filled
        self.fill_values = fill_values  # a missing value of the column becomes this before it is a category
        self.raw_of = raw_of  # AutoGluon's name of each raw column -> podium's
        self.text = text  # every text feature of the pipeline, recomputable from raw text
        self.text_refused = text_refused  # why the text features are not, when they are not
        self._text_frame: tuple[Dataset, pd.DataFrame] | None = None  # `text` on a dataset's rows, computed once

    @classmethod
    def of(cls, predictor, dataset: Dataset) -> AutoGluonFeatures:
        generator = predictor._learner.feature_generator
        stages = list(_stages(generator))
        categories: dict[str, list] = {}
        filled: set[str] = set()
        for stage in stages:
            categories.update({k: list(v) for k, v in (getattr(stage, "category_map", None) or {}).items()})
            filled |= set(getattr(stage, "_fillna_map", None) or {})
        true_values = {k: v for stage in stages for k, v in (getattr(stage, "_bool_features", None) or {}).items()}
        fill_values = {k: v for stage in stages
                       for k, v in (getattr(stage, "_fillna_feature_map", None) or {}).items()}
        sample = generator.transform(with_encoded_names(dataset.X.iloc[:SAMPLE_ROWS], autogluon_name))
        raw_of = {autogluon_name(c): c for c in dataset.X.columns}
        try:
            text = _text_features(stages, fill_values, raw_of)
            refused = None
        except Unservable as error:
            text, refused = None, str(error)
        return cls(sample, true_values, categories, filled, fill_values, raw_of, text, refused)

    def is_categorical(self, feature: str) -> bool:
        return isinstance(self.sample[feature].dtype, pd.CategoricalDtype)

    def raw_category(self, feature: str, value: Any) -> Any:
        """The raw category behind `value`, one of the pipeline's output categories of `feature`."""
        position = list(self.sample[feature].cat.categories).index(value)
        return self.categories[feature][position]

    def encoding(self, competition: Competition, problem: Problem, dataset: Dataset, features: list[str],
                 category_codes: Callable[[str], tuple[list[str], int]],
                 missing_codes: dict[str, float] | None = None) -> tuple[Schema, Encoder]:
        """The schema and encoder that turn raw rows into the matrix a model reading `features` takes;
        `category_codes(feature)` gives a categorical feature's raw category keys in code order and the code of
        anything else; `missing_codes` the code a model reads a missing category of a feature as, where
        AutoGluon does not fill it in (none: NaN)."""
        derived = [f for f in features if f not in self.raw_of or f not in self.sample.columns]
        text = self._text_of([f for f in derived if self.text is not None and f in self.text.names])
        derived = [f for f in derived if text is None or f not in text.names]
        if derived:
            why = f"; its text features: {self.text_refused}" if self.text_refused else ""
            raise Unservable(f"it reads features AutoGluon derived, not raw columns ({', '.join(derived[:3])}"
                             f"{' ...' if len(derived) > 3 else ''}){why}")
        computed = self._text_values(dataset)[text.names] if text is not None else \
            pd.DataFrame(index=dataset.X.index)
        frame = pd.DataFrame({f: computed[f] if f in computed.columns else dataset.X[self.raw_of[f]]
                              for f in features}, index=dataset.X.index)
        frame.columns = [f if f in computed.columns else self.raw_of[f] for f in features]
        if frame.columns.duplicated().any():
            raise Unservable("an AutoGluon text feature has the name of a raw column")
        base = Schema.infer(frame, unseen=problem.schema.unseen, dates=competition.dates,
                            relations=competition.relations)
        columns, codes, other, missing = [], {}, {}, {}
        for feature, column in zip(features, base.columns, strict=True):
            if self.is_categorical(feature):
                if column.kind != CATEGORICAL or feature not in self.categories or feature in self.filled:
                    raise Unservable(f"AutoGluon reads {column.name!r} as categories podium does not reproduce")
                codes[column.name], other[column.name] = category_codes(feature)
                _refuse_merged_keys(column.name, codes[column.name])
                if feature in self.fill_values:  # missing is read as the fill value's category, if it is one
                    fill = category_key(self.fill_values[feature])
                    if fill in codes[column.name]:
                        missing[column.name] = float(codes[column.name].index(fill))
                if column.name not in missing and feature in (missing_codes or {}):
                    missing[column.name] = float(missing_codes[feature])
            elif feature in self.true_values:
                true_key = category_key(self.true_values[feature])
                present = _keys_of(dataset.X[column.name])
                false_keys = [k for k in present if k != true_key]
                codes[column.name], other[column.name] = [false_keys[0] if false_keys else NO_VALUE, true_key], 0
                if column.kind == NUMERIC:  # two numbers: read as categories, so that only the true one is 1
                    column = ColumnSchema(name=column.name, kind=CATEGORICAL, dtype=column.dtype,
                                          missing_seen=column.missing_seen, categories=tuple(present))
            elif column.kind != NUMERIC or not pd.api.types.is_numeric_dtype(self.sample[feature].dtype):
                raise Unservable(f"AutoGluon reads {column.name!r} as {self.sample[feature].dtype}, which podium "
                                 "does not reproduce")
            columns.append(column)
        schema = base.model_copy(update={"columns": tuple(columns), "autogluon_text": text})
        return schema, Encoder(schema, codes, other, missing)

    def _text_values(self, dataset: Dataset) -> pd.DataFrame:
        """Every text feature on the training rows, computed once for all the models that read some of them
        (a feature's value does not depend on which others are read)."""
        if self._text_frame is None or self._text_frame[0] is not dataset:
            self._text_frame = (dataset, self.text.frame(dataset.X))
        return self._text_frame[1]

    def _text_of(self, names: list[str]) -> AutoGluonText | None:
        """The pipeline's text features cut down to `names` (the n-grams' vocabulary stays whole: `_total_`
        counts all of it)."""
        if not names:
            return None
        keep = set(names)
        ngrams = self.text.ngrams
        if ngrams is not None:
            features = {n: g for n, g in ngrams.features.items() if n in keep}
            ngrams = ngrams.model_copy(update={"features": features}) if features else None
        return self.text.model_copy(update={"statistics": tuple(s for s in self.text.statistics if s.name in keep),
                                            "ngrams": ngrams})


def _text_features(stages: list, fill_values: dict[str, Any], raw_of: dict[str, str]) -> AutoGluonText | None:
    """The pipeline's text statistics (binned) and n-grams as agent/runtime/autogluon_text.py computes them;
    `Unservable` where AutoGluon was configured in a way it does not reproduce."""
    statistics, ngrams, columns = [], None, []
    for stage in stages:
        kind = type(stage).__name__
        if kind == "TextSpecialFeatureGenerator":
            binned = next((p for p in stage._post_generators if type(p).__name__ == "BinnedFeatureGenerator"), None)
            if binned is None:
                raise Unservable("its text statistics are not binned, which podium does not reproduce")
            for feature, names in stage._feature_names_dict.items():
                columns.append(feature)
                for stat, name in names.items():
                    pairs = name.items() if isinstance(name, dict) else [(None, name)]
                    for part, output in pairs:
                        if output in binned._bin_map:
                            statistics.append(TextStatistic(
                                name=output, column=raw_of[feature], stat=f"symbol_{part}" if part else stat,
                                symbol=stat if part else None, bins=tuple(float(b) for b in binned._bin_map[output])))
        elif kind == "TextNgramFeatureGenerator" and stage.features_in:
            ngrams = _ngrams(stage, raw_of)
            columns += list(stage.features_in)
    if not statistics and ngrams is None:
        return None
    fills = {fill_values.get(c, "") for c in columns}
    if len(fills) != 1 or not isinstance(next(iter(fills)), str):
        raise Unservable(f"its text columns are filled with {sorted(map(repr, fills))}, not one text")
    return AutoGluonText(fill=fills.pop(), statistics=tuple(statistics), ngrams=ngrams)


def _ngrams(stage, raw_of: dict[str, str]) -> NGrams:
    if list(stage.vectorizer_features) != ["__nlp__"] or len(stage.vectorizers) != 1 or stage.prefilter_tokens:
        raise Unservable("its n-grams are counted per column or filtered by the target, which podium does not "
                         "reproduce")
    vectorizer = stage.vectorizers[0]
    params = vectorizer.get_params()
    if (params["analyzer"] != "word" or params["tokenizer"] or params["preprocessor"] or params["stop_words"]
            or params["strip_accents"] or params["binary"] or params["vocabulary"] is not None):
        raise Unservable(f"its n-gram vectorizer ({vectorizer}) is configured in a way podium does not reproduce")
    prefix = "__nlp__."
    names = [str(n) for n in stage._feature_names_dict["__nlp__"]]
    total = f"{prefix}_total_"
    return NGrams(columns=tuple(raw_of[c] for c in stage.features_in),
                  vocabulary=tuple(sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)),
                  ngram_range=tuple(params["ngram_range"]), lowercase=bool(params["lowercase"]),
                  token_pattern=params["token_pattern"],
                  features={n: None if n == total else n[len(prefix):] for n in names})


def _stages(generator):
    """Every generator of AutoGluon's feature pipeline, nested ones included."""
    yield generator
    for stage in getattr(generator, "generators", None) or []:
        for inner in stage if isinstance(stage, list) else [stage]:
            yield from _stages(inner)


def _keys_of(values: pd.Series) -> list[str]:
    return list(dict.fromkeys(category_key(v) for v in values.dropna().unique()))


def _refuse_merged_keys(name: str, keys: list[str]) -> None:
    present = [k for k in keys if k != NO_VALUE]
    if len(set(present)) != len(present):
        raise Unservable(f"column {name!r} has categories podium's serving reads as one (e.g. with spaces around "
                         "them)")


def keys_in_order(features: AutoGluonFeatures, feature: str, values: list) -> list[str]:
    """Raw category keys for a model's codes, given the pipeline's output category at each code."""
    return [category_key(features.raw_category(feature, value)) for value in values]
