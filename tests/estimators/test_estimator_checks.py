"""The estimator contract, checked by aeon's and scikit-learn's own suites."""

from __future__ import annotations

from aeon.testing.estimator_checking import parametrize_with_checks as aeon_checks
from sklearn.utils.estimator_checks import parametrize_with_checks as sklearn_checks

from sparsetsc import (
    DSNClassifier,
    DSPClassifier,
    EnsembleClassifier,
    FCNClassifier,
    InceptionClassifier,
    InceptionTimeClassifier,
    LITEClassifier,
    LITETimeClassifier,
)


@aeon_checks(
    [
        FCNClassifier,
        DSNClassifier,
        LITEClassifier,
        InceptionClassifier,
        LITETimeClassifier,
        InceptionTimeClassifier,
        EnsembleClassifier,
        DSPClassifier,
    ]
)
def test_aeon_estimator_checks(check):
    check()


def _tabular_estimator() -> FCNClassifier:
    # scikit-learn feeds 2-D tables with as few as 1-2 columns (read as series of 1-2 time
    # points), so the checks use kernels of size 1.
    return FCNClassifier(
        n_filters=(4,), kernel_sizes=(1,), n_epochs=3, batch_size=4, device="cpu", random_state=0
    )


# scikit-learn's suite is written for tabular (2-D) data; the checks below fail for reasons
# that are deliberate for a time-series classifier. Each is listed with the reason; they are
# run and expected to fail, so a change in behaviour shows up.
SKLEARN_EXPECTED_FAILURES = {
    "check_no_attributes_set_in_init": "aeon's BaseClassifier.__init__ creates empty classes_, "
    "n_classes_, metadata_ and is_fitted (aeon convention)",
    "check_dont_overwrite_parameters": "aeon's fit sets the public is_fitted flag",
    "check_n_features_in": "time-series estimators record metadata_['n_channels'] and "
    "['n_timepoints'] (aeon convention) instead of the tabular n_features_in_",
    "check_n_features_in_after_fitting": "same reason as check_n_features_in",
    "check_dtype_object": "non-numeric values raise ValueError('X must hold numbers ...'), "
    "where scikit-learn expects numpy's TypeError text",
    "check_estimators_empty_data_messages": "our message is 'X is empty: got shape (12, 0) "
    "...', not scikit-learn's '0 feature(s)' wording",
    "check_fit2d_1sample": "one sample is one class; we raise 'y holds a single class', not "
    "scikit-learn's sample-count wording",
    "check_fit2d_predict1d": "a 1-D X raises 'X must be 3-D ... or 2-D', not scikit-learn's "
    "'Reshape your data' wording",
    "check_classifiers_train": "global average pooling makes the network invariant to the order "
    "of the 'time points', so a 2-column tabular blob problem is not separable by design",
    "check_classifiers_train(readonly_memmap=True)": "same reason as check_classifiers_train",
    "check_classifiers_train(readonly_memmap=True,X_dtype=float32)": "same reason as "
    "check_classifiers_train",
}


@sklearn_checks(
    [_tabular_estimator()], expected_failed_checks=lambda est: SKLEARN_EXPECTED_FAILURES
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
