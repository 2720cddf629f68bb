"""Imported by the sweep's forkserver at its start: it then dies with the sweep's process.

One of the two modules of the package that act on import (with
:mod:`titanic.sweep.forkserver_warm_up`), and only where it is named in
``set_forkserver_preload``: a forkserver outlives a ``kill -9`` of its parent otherwise, and
keeps its workers (and their kernels) rendering after the command is gone.
"""

from titanic.processes import die_with_parent

die_with_parent()
