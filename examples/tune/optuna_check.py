"""Open a swtrain study journal with Optuna (optional: pip install optuna).

    python3 examples/tune/optuna_check.py studies/mnist1d-tpe-asha/journal.log mnist1d-tpe-asha

Prints the trial count by state and the best trial as Optuna reads it; `swtrain tune`
prints the same best trial at the end of the study.
"""
import collections
import sys

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

path, name = sys.argv[1], sys.argv[2]
study = optuna.load_study(study_name=name, storage=JournalStorage(JournalFileBackend(path)))
print("optuna", optuna.__version__, "study", study.study_name, study.direction.name)
print("trials:", dict(collections.Counter(t.state.name for t in study.trials)))
best = study.best_trial
print(f"best trial {best.number}: value {best.value} params {best.params}")
print("intermediate values:", best.intermediate_values)
