"""The seed's entry point, kept: train, then print the accuracy and the confusion matrix.

 All the work is in the ``titanic`` package; extra arguments go to ``titanic run``
(e.g. ``python main.py -P model.n_estimators=50``).
"""

import sys

from titanic.cli import main

if __name__ == "__main__":
    main(["run", *sys.argv[1:]])
