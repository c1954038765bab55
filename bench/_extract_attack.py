"""Text to ATT&CK on the AnnoCTR test split: Accord's model against a keyword baseline.

Train on ATT&CK and the AnnoCTR train split, choose the threshold on dev, retrain on
train + dev, and score the test split once. Technique ids are compared at the
technique level (sub-techniques folded into their parent): AnnoCTR's experts
linked almost every mention to a parent technique.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

from accord.extract._attack import (
    NONE,
    TechniqueModel,
    Tuning,
    attack_examples,
    labelled_examples,
    link_id,
    parent_id,
    prose_examples,
    sentences,
)

THRESHOLDS = (-0.7, -0.6, -0.5, -0.45, -0.4, -0.3, -0.2)


@dataclass(frozen=True, slots=True)
class Doc:
    name: str
    text: str
    rows: list[dict[str, object]]

    @property
    def gold(self) -> set[str]:
        out = set()
        for r in self.rows:
            tid = link_id(str(r.get("label_link", "")))
            if r.get("entity_type") == "TECHNIQUE" and tid:
                out.add(parent_id(tid))
        return out


def load_split(annoctr: Path) -> dict[str, list[Doc]]:
    splits = json.loads((annoctr / "splits.json").read_text())
    out: dict[str, list[Doc]] = {}
    for split in ("train", "dev", "test"):
        docs = []
        for name in splits[split]:
            lines = (annoctr / "linking_mitre_only" / f"{name}.json").read_text().splitlines()
            rows = [json.loads(line) for line in lines if line.strip()]
            docs.append(Doc(name, (annoctr / "text" / f"{name}.txt").read_text(), rows))
        out[split] = docs
    return out


@dataclass(slots=True)
class F1s:
    micro: float
    macro: float
    precision: float
    recall: float


def score(pred: list[set[str]], gold: list[set[str]]) -> F1s:
    tp = fp = fn = 0
    per_doc = []
    for p, g in zip(pred, gold, strict=True):
        a, b, c = len(p & g), len(p - g), len(g - p)
        tp, fp, fn = tp + a, fp + b, fn + c
        per_doc.append(2 * a / (2 * a + b + c) if a + b + c else 1.0)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    micro = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return F1s(micro, sum(per_doc) / len(per_doc), precision, recall)


def keyword_baseline(names: dict[str, str], doc: Doc) -> set[str]:
    """Technique names and ids found in the text, as an analyst's grep would."""
    text = doc.text.lower()
    out = set()
    for tid, name in names.items():
        if re.search(r"\b" + re.escape(name.lower()) + r"\b", text) or re.search(
            r"\b" + tid.lower() + r"\b", text
        ):
            out.add(parent_id(tid))
    return out


def _predict(model: TechniqueModel, docs: list[Doc], tuning: Tuning) -> list[set[str]]:
    return [{parent_id(t.attack_id) for t in model.map(d.text, tuning)} for d in docs]


def sentence_level(model: TechniqueModel, docs: list[Doc], tuning: Tuning) -> F1s:
    """Per sentence: each annotated sentence (its techniques) and each unannotated one
    (none); a sentence's prediction is every technique scoring over the threshold."""
    preds: list[set[str]] = []
    golds: list[set[str]] = []
    for d in docs:
        gold: dict[str, set[str]] = {}
        mentions = []
        for r in d.rows:
            tid = link_id(str(r.get("label_link", "")))
            if r.get("entity_type") != "TECHNIQUE" or tid is None:
                continue
            mentions.append(str(r["mention"]))
            sent = " ".join(str(r[k]) for k in ("context_left", "mention", "context_right"))
            gold.setdefault(sent, set()).add(parent_id(tid))
        for s in sentences(d.text):
            if not any(m in s for m in mentions):
                gold.setdefault(s, set())
        sents = list(gold)
        margins = model.scores(sents)
        for i, s in enumerate(sents):
            row = margins[i]
            preds.append(
                {
                    parent_id(model.classes[j])
                    for j in range(len(row))
                    if row[j] > tuning.min_score and model.classes[j] != NONE
                }
            )
            golds.append(gold[s])
    tp = sum(len(p & g) for p, g in zip(preds, golds, strict=True))
    fp = sum(len(p - g) for p, g in zip(preds, golds, strict=True))
    fn = sum(len(g - p) for p, g in zip(preds, golds, strict=True))
    pr = tp / (tp + fp) if tp + fp else 0.0
    rc = tp / (tp + fn) if tp + fn else 0.0
    micro = 2 * pr * rc / (pr + rc) if pr + rc else 0.0
    labelled = [(p, g) for p, g in zip(preds, golds, strict=True) if g]
    macro = sum(2 * len(p & g) / (len(p) + len(g)) for p, g in labelled) / max(1, len(labelled))
    return F1s(micro, macro, pr, rc)


@dataclass(slots=True)
class AttackResult:
    threshold: float
    dev: F1s
    test: F1s
    test_sentences: F1s
    keyword: F1s
    train_seconds: float
    map_seconds: float
    test_docs: int
    examples: int


def run(
    attack_bundle: Path, annoctr: Path, *, subtechniques: bool = False, learn_annoctr: bool = True
) -> AttackResult:
    objects = json.loads(attack_bundle.read_text())["objects"]
    base, names = attack_examples(objects)
    base += prose_examples(objects)
    split = load_split(annoctr)
    # Without AnnoCTR training data: the model a node holding only ATT&CK trains.
    train = [e for d in split["train"] for e in labelled_examples(d.text, d.rows)]
    dev = [e for d in split["dev"] for e in labelled_examples(d.text, d.rows)]
    if not learn_annoctr:
        train, dev = [], []
    model = TechniqueModel(base + train, names, subtechniques=subtechniques)
    dev_gold = [d.gold for d in split["dev"]]
    best = max(
        THRESHOLDS,
        key=lambda th: score(_predict(model, split["dev"], Tuning(th)), dev_gold).micro,
    )
    tuning = Tuning(best)
    dev_score = score(_predict(model, split["dev"], tuning), dev_gold)
    started = time.perf_counter()
    final = TechniqueModel(base + train + dev, names, subtechniques=subtechniques)
    trained = time.perf_counter() - started
    started = time.perf_counter()
    test_pred = _predict(final, split["test"], tuning)
    mapped = time.perf_counter() - started
    test_gold = [d.gold for d in split["test"]]
    keyword = score([keyword_baseline(names, d) for d in split["test"]], test_gold)
    return AttackResult(
        best,
        dev_score,
        score(test_pred, test_gold),
        sentence_level(final, split["test"], tuning),
        keyword,
        trained,
        mapped,
        len(split["test"]),
        len(base + train + dev),
    )
