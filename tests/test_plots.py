import pandas as pd
import pytest
from matplotlib.figure import Figure

from titanic import plots


@pytest.fixture
def matrix():
    return pd.DataFrame(
        [[90, 10], [20, 59]], index=["died", "survived"], columns=["died", "survived"]
    )


def texts(figure: Figure) -> list[str]:
    return [text.get_text() for axes in figure.axes for text in axes.texts]


def test_survival_rate_by_shows_rates_and_counts(passengers):
    figure = plots.survival_rate_by(passengers, "Sex")
    heights = [patch.get_height() for patch in figure.axes[0].patches]
    expected = passengers.groupby("Sex")["Survived"].mean()
    assert heights == pytest.approx(expected.tolist())
    assert texts(figure) == [f"n={count}" for count in passengers.groupby("Sex").size()]


def test_distribution_by_survival_has_both_groups(passengers):
    figure = plots.distribution_by_survival(passengers, "Fare", log_scale=True)
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert labels == ["died", "survived"]
    assert figure.axes[0].get_xlabel() == "log10(Fare + 1)"


def test_correlation_heatmap_annotates_every_cell(passengers):
    numeric = passengers.select_dtypes("number").shape[1]
    figure = plots.correlation_heatmap(passengers)
    assert len(texts(figure)) == numeric * numeric
    assert "1.00" in texts(figure)


def test_confusion_matrix_heatmap_prints_counts(matrix):
    assert texts(plots.confusion_matrix_heatmap(matrix)) == ["90", "10", "20", "59"]


def test_roc_curve_plot_states_the_area():
    roc = pd.DataFrame({"false_positive_rate": [0, 0.5, 1], "true_positive_rate": [0, 0.8, 1]})
    figure = plots.roc_curve_plot(roc, 0.8123)
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert labels[0] == "model (AUC = 0.812)"


def test_cross_validation_plot_has_a_dot_per_fold():
    scores = pd.DataFrame({"accuracy": [0.8, 0.82, 0.79], "f1": [0.7, 0.72, 0.75]})
    figure = plots.cross_validation_plot(scores)
    assert [len(collection.get_offsets()) for collection in figure.axes[0].collections[::2]] == [
        3,
        3,
    ]


def test_importance_plot_puts_the_most_important_on_top():
    importance = pd.DataFrame(
        {
            "feature": ["Sex", "Age", "Fare"],
            "importance_mean": [0.1, 0.05, 0.0],
            "importance_std": [0.01] * 3,
        }
    )
    figure = plots.importance_plot(importance)
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels[-1] == "Sex"
