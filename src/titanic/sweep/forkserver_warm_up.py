"""Imported last by the render pool's forkserver: work done once there is done for every worker.

Like :mod:`titanic.sweep.forkserver_guard`, it acts on import, and only where it is named in
the pool's preload list (:data:`titanic.sweep.run.WORKER_MODULES`). Importing a module loads
its code but leaves first-use work to each forked worker: here, compiling the HTML page's
templates and loading its highlighters, half a second per variant otherwise.
"""

from titanic.report.html import warm_up

warm_up()
