"""The tuning benchmark's objective and search loop (its figures are in RESULTS.md)."""

from bench.tuning import run_search, true_loss


def test_the_synthetic_loss_is_zero_at_its_optimum_and_grows_away_from_it():
    best = {"lr": "0.0031622776601683794", "momentum": "0.8", "optimizer": "adam", "layers": "4"}
    assert true_loss(best) == 0.0
    assert true_loss({**best, "optimizer": "sgd"}) == 0.4
    assert true_loss({**best, "lr": "0.0316227766016838"}) == 0.25


def test_a_search_run_is_reproducible_for_its_seed():
    assert run_search("Bayesian", 3, 12)[0] == run_search("Bayesian", 3, 12)[0]
    assert run_search("Random", 3, 12)[0] == run_search("Random", 3, 12)[0]
