"""Names of the previous release still work for one release, with a DeprecationWarning."""

from __future__ import annotations

import pytest

import sparsetsc.bench
import sparsetsc.nn
import sparsetsc.prune
import sparsetsc.train


@pytest.mark.parametrize(
    "module, old, new",
    [
        (sparsetsc.train, "fit_networks_batched", sparsetsc.train.fit_networks),
        (sparsetsc.train, "BATCHED_SELECTIONS", sparsetsc.train.VECTORISED_SELECTIONS),
        (sparsetsc.prune, "StageRecorder", sparsetsc.nn.StageRecorder),
        (sparsetsc.prune, "stage_width", sparsetsc.nn.stage_width),
        (sparsetsc.prune, "stages_of", sparsetsc.nn.stages_of),
        (sparsetsc.bench, "plan_variants", sparsetsc.bench.plan_sweep),
    ],
)
def test_old_name_warns_and_is_the_new_object(module, old, new):
    with pytest.warns(DeprecationWarning, match=old):
        assert getattr(module, old) is new


def test_unknown_names_still_raise():
    for module in (sparsetsc.train, sparsetsc.prune, sparsetsc.bench):
        with pytest.raises(AttributeError):
            module.no_such_name  # noqa: B018
