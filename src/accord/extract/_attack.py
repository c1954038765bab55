"""Text to ATT&CK: sentences mapped to techniques by a linear model over TF-IDF.

The model is classical and small (scikit-learn): TF-IDF over words and word
pairs, and a linear SVM with one class per technique plus `NONE`. It trains in
seconds from what the node already holds: each technique's name and
description, the procedure examples in the descriptions of ATT&CK ``uses``
relationships (sixteen thousand real sentences of what a group or a malware
did), and, as sentences that describe no technique, what ATT&CK says about
malware, tools, groups and campaigns; plus any labelled report sentences given
(the AnnoCTR train and dev splits). Nothing is downloaded; no GPU.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from accord.extract._model import Technique

_CITATION = re.compile(r"\(Citation:[^)]*\)")
_LINK = re.compile(r"\[([^\]]{1,200})\]\([^)]{1,500}\)")
_CODE = re.compile(r"<code>|</code>")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])|\n+")
_ID = re.compile(r"^T\d{4}(?:\.\d{3})?$")
MAX_SENTENCES = 5000  # sentences of one document scored; the rest are not
MIN_WORDS = 4


def clean(text: str) -> str:
    """ATT&CK prose without citations and Markdown links (the link text stays)."""
    return " ".join(_CODE.sub("", _LINK.sub(r"\1", _CITATION.sub("", text))).split())


def sentences(text: str) -> list[str]:
    """The text's sentences (and lines), each of at least MIN_WORDS words."""
    out = []
    for s in _SENTENCE.split(text):
        s = " ".join(s.split())
        if len(s.split()) >= MIN_WORDS:
            out.append(s[:1000])
    return out


def attack_id_of(obj: Mapping[str, object]) -> str | None:
    refs = obj.get("external_references")
    if not isinstance(refs, list):
        return None
    for ref in refs:
        if isinstance(ref, dict) and ref.get("source_name") == "mitre-attack":
            eid = ref.get("external_id")
            if isinstance(eid, str) and _ID.match(eid):
                return eid
    return None


def attack_examples(
    objects: Iterable[Mapping[str, object]],
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Training sentences from ATT&CK objects, and technique names by id.

    Each technique's name and description sentences, and each ``uses``
    relationship's description (a procedure example) labelled with its target.
    """
    objs = list(objects)
    by_stix: dict[str, str] = {}
    names: dict[str, str] = {}
    examples: list[tuple[str, str]] = []
    for o in objs:
        if o.get("type") != "attack-pattern" or o.get("revoked") or o.get("x_mitre_deprecated"):
            continue
        tid = attack_id_of(o)
        if tid is None:
            continue
        by_stix[str(o.get("id"))] = tid
        names[tid] = str(o.get("name", ""))
        examples.append((names[tid], tid))
        examples.extend((s, tid) for s in sentences(clean(str(o.get("description", "")))))
    for o in objs:
        if o.get("type") == "relationship" and o.get("relationship_type") == "uses":
            tid = by_stix.get(str(o.get("target_ref")))
            desc = o.get("description")
            if tid and isinstance(desc, str):
                examples.extend((s, tid) for s in sentences(clean(desc)))
    return examples, names


NONE = "none"  # the label of sentences that describe no technique
POSITIVE_WEIGHT = 3  # a report's labelled sentence counts as this many ATT&CK sentences


def parent_id(attack_id: str) -> str:
    """T1059.001 → T1059."""
    return attack_id.split(".", 1)[0]


def link_id(url: str) -> str | None:
    """The technique id of an ATT&CK URL (``.../techniques/T1059/001`` → T1059.001)."""
    if "/techniques/" not in url:
        return None
    tid = url.split("/techniques/", 1)[1].strip("/").replace("/", ".")
    return tid if _ID.match(tid) else None


def labelled_examples(text: str, rows: Iterable[Mapping[str, object]]) -> list[tuple[str, str]]:
    """Training sentences from one report annotated the AnnoCTR way (KILT linking rows).

    Each technique mention in its sentence (``POSITIVE_WEIGHT`` times) and alone;
    the report's sentences that hold no technique mention, as `NONE`.
    """
    out: list[tuple[str, str]] = []
    mentions: list[str] = []
    for r in rows:
        tid = link_id(str(r.get("label_link", "")))
        if r.get("entity_type") != "TECHNIQUE" or tid is None:
            continue
        mention = str(r.get("mention", ""))
        mentions.append(mention)
        sent = " ".join(str(r.get(k, "")) for k in ("context_left", "mention", "context_right"))
        out.extend([(sent, tid)] * POSITIVE_WEIGHT)
        out.append((mention, tid))
    out.extend((s, NONE) for s in sentences(text) if not any(m in s for m in mentions))
    return out


def prose_examples(objects: Iterable[Mapping[str, object]]) -> list[tuple[str, str]]:
    """Sentences that describe no technique: what ATT&CK says of malware, groups, campaigns
    ("X is a backdoor used by Y since 2015"), labelled `NONE`."""
    out: list[tuple[str, str]] = []
    for o in objects:
        if o.get("type") in ("malware", "tool", "intrusion-set", "campaign"):
            out.extend((s, NONE) for s in sentences(clean(str(o.get("description", "")))))
    return out


@dataclass(frozen=True, slots=True)
class Tuning:
    """The decision threshold, chosen on the AnnoCTR dev split (bench/extract.py)."""

    min_score: float = -0.6  # a technique's best sentence score (SVM margin) to be mapped
    max_techniques: int = 40  # per document


# Chosen on the AnnoCTR dev split for the model with sub-techniques (bench/extract.py):
# trained with AnnoCTR's train split, and trained on ATT&CK alone.
TUNED_WITH_REPORTS = Tuning(min_score=-0.6)
TUNED_ATTACK_ONLY = Tuning(min_score=-0.5)


class TechniqueModel:
    """A linear SVM over TF-IDF of sentences: a technique id, or `NONE`, per sentence.

    A document maps to the techniques whose best sentence scores over the
    threshold; each keeps its best sentences as support.
    """

    def __init__(
        self,
        examples: Sequence[tuple[str, str]],
        names: Mapping[str, str],
        *,
        subtechniques: bool = True,
    ) -> None:
        if not subtechniques:
            examples = [(t, parent_id(label)) for t, label in examples]
        labels = {label for _, label in examples}
        if len(labels - {NONE}) < 2:
            raise ValueError("too few techniques to train on (does the node hold ATT&CK?)")
        self.names = dict(names)
        self.vectorizer = TfidfVectorizer(
            ngram_range=(1, 2),
            min_df=2,
            sublinear_tf=True,
            max_features=200_000,
            dtype=np.float32,
        )
        matrix = self.vectorizer.fit_transform([t for t, _ in examples])
        self.classifier = LinearSVC(C=0.5)
        self.classifier.fit(matrix, np.array([label for _, label in examples]))
        self.classes = [str(c) for c in self.classifier.classes_]

    def scores(self, sents: Sequence[str]) -> Any:
        """Margins of each sentence (rows) for each class (columns), a NumPy array."""
        return self.classifier.decision_function(self.vectorizer.transform(sents))

    def map(self, text: str, tuning: Tuning = Tuning()) -> list[Technique]:
        """Techniques of a document, best first, each with its supporting sentences."""
        sents = sentences(text)[:MAX_SENTENCES]
        if not sents:
            return []
        margins = self.scores(sents)
        best = margins.max(axis=0)
        order = np.argsort(-best)
        out: list[Technique] = []
        for i in order:
            tid = self.classes[int(i)]
            score = float(best[i])
            if score <= tuning.min_score or len(out) >= tuning.max_techniques:
                break
            if tid == NONE:
                continue
            col = margins[:, i]
            top = [int(j) for j in np.argsort(-col)[:3] if col[j] > tuning.min_score]
            out.append(
                Technique(
                    tid, self.names.get(tid, ""), round(score, 3), tuple(sents[j] for j in top)
                )
            )
        return out
