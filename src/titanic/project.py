"""The project: one folder holding params.yaml, report.qmd, _quarto.yml and uv.lock.

The CLI finds it once, from the folder it was started in, and passes it down; library code
never looks at the current directory. Relative paths in the parameters (``output_dir``, a
local ``data.source``) start from :attr:`Project.root`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PARAMS_FILENAME = "params.yaml"
REPORT_SOURCE_FILENAME = "report.qmd"
QUARTO_CONFIG_FILENAME = "_quarto.yml"
LOCK_FILENAME = "uv.lock"
# The names of an output folder (a run's, a render's, each variant's): one home for each.
MODEL_FILENAME = "model.joblib"
METRICS_FILENAME = "metrics.json"
SUMMARY_FILENAME = "summary.json"
RESOLVED_PARAMS_FILENAME = "params.resolved.yaml"
REPORT_HTML_FILENAME = "report.html"
REPORT_PDF_FILENAME = "report.pdf"
REPORT_NOTEBOOK_FILENAME = "report.ipynb"
# A sweep's folder inside the output folder: one sub-folder per variant, the comparison page
# and its table.
VARIANTS_DIRNAME = "variants"
COMPARISON_FILENAME = "index.html"
COMPARISON_TABLE_FILENAME = "summary.csv"
# What `titanic run` and `titanic render` publish into the output folder (the report's files
# only for `render`): each publishes one output set that replaces all of these names, so a
# report never sits beside metrics of another run. Patterns are relative to the folder.
OUTPUT_SET = (
    MODEL_FILENAME,
    METRICS_FILENAME,
    SUMMARY_FILENAME,
    RESOLVED_PARAMS_FILENAME,
    "figures/*.png",
    REPORT_HTML_FILENAME,
    REPORT_PDF_FILENAME,
    REPORT_NOTEBOOK_FILENAME,
)


@dataclass(frozen=True)
class Project:
    """Where a project lives and the files every command reads from it.

    Parameters
    ----------
    root : Path
        The project folder, absolute.
    params_file : Path
        The base parameter file, absolute (``root / "params.yaml"`` for :meth:`at`).
    """

    root: Path
    params_file: Path

    @classmethod
    def at(cls, root: str | Path) -> Project:
        """Return the project rooted at ``root``, with its params.yaml."""
        root = Path(root).resolve()
        return cls(root, root / PARAMS_FILENAME)

    @classmethod
    def discover(cls, start: str | Path) -> Project:
        """Return the project of the nearest folder, from ``start`` upwards, with a params.yaml.

        ``start`` itself is the root when no folder above it holds one (the commands then
        report the missing params.yaml by name).
        """
        start = Path(start).resolve()
        for folder in (start, *start.parents):
            if (folder / PARAMS_FILENAME).is_file():
                return cls.at(folder)
        return cls.at(start)

    @classmethod
    def of_params_file(cls, params_file: str | Path) -> Project:
        """Return the project whose root is the folder of ``params_file``."""
        path = Path(params_file).resolve()
        return cls(path.parent, path)

    @property
    def report(self) -> Path:
        """The literate report, ``report.qmd``."""
        return self.root / REPORT_SOURCE_FILENAME

    @property
    def quarto_config(self) -> Path:
        """Quarto's project file, ``_quarto.yml``."""
        return self.root / QUARTO_CONFIG_FILENAME

    @property
    def lock_file(self) -> Path:
        """The pinned environment, ``uv.lock``."""
        return self.root / LOCK_FILENAME

    def resolve(self, path: str | Path) -> Path:
        """Return ``path`` as an absolute path, a relative one taken from the root."""
        path = Path(path).expanduser()
        return path if path.is_absolute() else self.root / path
