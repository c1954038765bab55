"""Text to ATT&CK for report drafts: the model, trained at first use from the node's data.

The training sentences come from the ATT&CK objects the node holds (and, with
``ACCORD_REPORT_TRAINING``, from an AnnoCTR-format folder's train and dev
splits). Training takes a minute or more on two cores, so the fitted model is
kept in ``<ACCORD_HOME>/cache/`` under the digest of its training data and
scikit-learn's version: a node that imports more ATT&CK trains again, the
next import of a report reuses it. The file is written by this node for this
node only; nothing from elsewhere is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable
from pathlib import Path

import orjson
import sklearn

from accord.extract import Technique
from accord.extract._attack import (
    TUNED_ATTACK_ONLY,
    TUNED_WITH_REPORTS,
    TechniqueModel,
    attack_examples,
    labelled_examples,
    prose_examples,
)
from accord.extract._stix import Known
from accord.service.node import Node
from accord.store import Query

Notify = Callable[[str], None]
_TYPES = ("attack-pattern", "relationship", "malware", "tool", "intrusion-set", "campaign")
_loaded: dict[str, TechniqueModel] = {}


def _node_objects(node: Node) -> list[dict[str, object]]:
    out = []
    for obj in node.store.query(Query(types=_TYPES)):
        o = orjson.loads(obj.data)
        if obj.type != "relationship" or o.get("relationship_type") == "uses":
            out.append(o)
    return out


def _annoctr(folder: Path) -> list[tuple[str, str]]:
    """Labelled sentences of an AnnoCTR-format folder: train and dev splits, never test."""
    splits = json.loads((folder / "splits.json").read_text())
    out: list[tuple[str, str]] = []
    for name in [*splits.get("train", []), *splits.get("dev", [])]:
        text = (folder / "text" / f"{name}.txt").read_text()
        lines = (folder / "linking_mitre_only" / f"{name}.json").read_text().splitlines()
        out += labelled_examples(text, [json.loads(line) for line in lines if line.strip()])
    return out


def model_for(node: Node, notify: Notify | None = None) -> TechniqueModel | None:
    """The node's model (None when the node holds too little ATT&CK to train one).

    Args:
        node: the open node.
        notify: told, before training starts, that it will take a while.
    """
    objects = _node_objects(node)
    examples, names = attack_examples(objects)
    if len(names) < 2:
        return None
    examples += prose_examples(objects)
    training = node.settings.report_training
    if training:
        examples += _annoctr(Path(training))
    digest = hashlib.sha256(orjson.dumps([sklearn.__version__, sorted(examples)])).hexdigest()
    if digest in _loaded:
        return _loaded[digest]
    cache = node.settings.home / "cache" / f"attack-model-{digest[:16]}.pickle"
    model: TechniqueModel | None = None
    if cache.is_file():
        try:
            loaded = pickle.loads(cache.read_bytes())  # our own file, see the module docstring
            model = loaded if isinstance(loaded, TechniqueModel) else None
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            model = None
    if model is None:
        if notify is not None:
            notify(
                f"training the text-to-ATT&CK model on {len(examples):,} sentences "
                "(first use; kept for later imports)"
            )
        model = TechniqueModel(examples, names)
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(cache)
    _loaded[digest] = model
    return model


def map_text(node: Node, text: str, known: Known, notify: Notify | None = None) -> list[Technique]:
    """Techniques the text maps to, named as the node's ATT&CK names them."""
    model = model_for(node, notify)
    if model is None:
        return []
    tuning = TUNED_WITH_REPORTS if node.settings.report_training else TUNED_ATTACK_ONLY
    out = []
    for t in model.map(text, tuning):
        name = known.attack_patterns.get(t.attack_id, ("", t.name))[1] or t.name
        out.append(Technique(t.attack_id, name, t.score, t.sentences))
    return out
