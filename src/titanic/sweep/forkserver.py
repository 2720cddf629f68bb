"""The entry point of every forkserver a local pool starts: importing this module is the call.

A forkserver runs nothing of ours but the imports of its preload list
(``multiprocessing``'s ``set_forkserver_preload``), so the one call it needs stands at the end
of this module, as ``__main__.py`` calls the command line.
:class:`~titanic.sweep.executors.LocalProcessExecutor` names it first in that list, and nothing
else imports it: every other module of the package only defines.
"""

from titanic.processes import die_with_parent


def start_forkserver() -> None:
    """Tie the forkserver's life to its parent's, then warm up the HTML page for every worker.

    Without the first, a forkserver outlives a ``kill -9`` of its parent and keeps its workers
    (and their kernels) rendering after the command is gone. Importing a module loads its
    code but leaves first-use work to each forked worker: compiling the page's templates and
    loading its highlighters, half a second per variant otherwise, is done here once.
    """
    die_with_parent()
    # Imported once the forkserver dies with its parent: this import takes seconds.
    from titanic.report.html import warm_up  # pylint: disable=import-outside-toplevel

    warm_up()


start_forkserver()
