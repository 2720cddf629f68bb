import json

import pytest

from titanic.metrics import FLAT_METRIC_NAMES, flat_metrics, parse_document

from .conftest import metrics_json


def test_flat_metrics_picks_held_out_scores_and_compared_cv_means():
    validation = {"accuracy": 0.8, "precision": 0.7, "recall": 0.6, "f1": 0.65, "roc_auc": 0.9}
    document = parse_document(metrics_json(validation, cv_mean=0.75, cv_std=0.05))
    flat = flat_metrics(document["metrics"])
    assert list(flat) == list(FLAT_METRIC_NAMES)
    assert flat["roc_auc"] == 0.9
    assert flat["precision"] == 0.7
    assert flat["cv_accuracy_mean"] == 0.75
    assert flat["cv_f1_std"] == 0.05


@pytest.mark.parametrize("section", ["validation", "cross_validation", "cross_validation_folds"])
def test_a_document_missing_one_metric_is_refused_and_named(section):
    document = json.loads(metrics_json(0.8, cv_mean=0.8, cv_std=0.01))
    del document["metrics"][section]["recall"]
    with pytest.raises(ValueError, match="missing metric.*recall"):
        parse_document(json.dumps(document))


def test_a_document_with_a_text_score_is_refused():
    document = json.loads(metrics_json(0.8, cv_mean=0.8, cv_std=0.01))
    document["metrics"]["validation"]["accuracy"] = "high"
    with pytest.raises(ValueError, match="accuracy"):
        parse_document(json.dumps(document))
