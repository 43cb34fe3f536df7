"""The claims spec: what each claim says in the paper's words, its one primary test, and the
companion's own questions as labelled secondary findings — fixed here, before the runs.

Every claim the notebooks record is computed by :mod:`reuse_utils.analysis.evaluators` from the
entry of :data:`SPEC` with its id: the record's ``statement`` is the entry's ``paper_words``, its
``operationalisation`` and ``test`` are the primary's. A claim's verdict (``pass``, ``fail`` or
``not tested``) is the primary's alone; secondaries are reported beside it with Holm-adjusted
p-values (within the claim), never folded into the verdict. ``claims.json`` names the spec's
:data:`SPEC_VERSION` and :func:`spec_hash`; a claim recorded under another spec is shown as stale.

Kinds: ``empirical`` (a finding about transfer), ``identity`` (the generator or a closed form is
right), ``diagnostic`` (the instrument is trained: protocol health) and ``manipulation check``
(the dial does what it manipulates). Only ``empirical`` claims are findings.

Conventions every test here uses: the seed is the unit (the task in case studies); trends are exact
within-seed permutation tests of Mann–Kendall's S (:func:`~reuse_utils.analysis.stats.permutation_trend`);
paired comparisons exact sign-flip tests over seeds (:func:`~reuse_utils.analysis.stats.sign_flip`);
selections (k, mode, learning rate, L2 strength, epoch) on validation data only; level 0.05.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from reuse_utils.core.ids import stable_hash

__all__ = ["Test", "ClaimSpec", "SPEC", "SPEC_VERSION", "spec_hash", "KINDS", "ORIGINS", "LEVEL", "HEALTH_MAX"]

SPEC_VERSION = "2026.12-2"
LEVEL = 0.05  #: significance level of every primary and secondary test
HEALTH_MAX = 0.10  #: most fraction of edge choices or capped runs a protocol-health check allows per cell
KINDS = ("empirical", "identity", "diagnostic", "manipulation check")
#: ``paper``: a claim of the paper, in its words; ``companion``: the companion's own finding beyond the paper
ORIGINS = ("paper", "companion")


@dataclass(frozen=True)
class Test:
    """One test: ``name`` (a label), what is measured (``statistic``, with ``effect_unit``), the
    replication ``unit``, the ``alternative`` and the ``method``."""

    name: str
    statistic: str
    effect_unit: str
    unit: str
    alternative: str
    method: str
    level: float = LEVEL


@dataclass(frozen=True)
class ClaimSpec:
    """One claim: ``paper_words`` (what the paper says, from its abstract and TL;DR), ``kind``,
    the ``primary`` test, ``secondaries`` (the companion's stricter or different questions),
    ``not_tested_when`` (when the instrument cannot test it: then the verdict is "not tested") and
    ``caveat`` (what the design makes of the primary: where it is close to forced, the secondary that
    asks the harder question) and ``origin`` (:data:`ORIGINS`: the paper's claim, or the companion's
    own finding, labelled as such wherever it is shown)."""

    id: str
    kind: str
    paper_words: str
    notebook: str
    primary: Test
    secondaries: tuple[Test, ...] = ()
    not_tested_when: str = ""
    caveat: str = ""
    origin: str = "paper"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {list(KINDS)}; got {self.kind!r}")
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {list(ORIGINS)}; got {self.origin!r}")


_SEED_TREND = "exact within-seed permutation test of Mann–Kendall's S (one-sided)"
_SIGN_FLIP = "exact sign-flip test over seeds (one-sided)"
_LOSO_PERM = ("permutation test: the levels of the predicted dial (t, or α) relabelled within each seed — one "
              "relabelling for all of the seed's worlds — and the whole leave-one-seed-out procedure rerun (499 "
              "Monte Carlo copies, one-sided)")
_RANK_PERM = ("permutation test: the score permuted across depths, one permutation for all worlds of one Alice "
              "(exact per Alice, 9,999 Monte Carlo copies of the mean, one-sided)")
_SIGN_FLIP_LOSO = ("exact sign-flip test over seeds (one-sided); approximate here: each seed's value rests on fits to "
                   "the other seeds")

_SPECS = (
    ClaimSpec(
        "C0_generator_calibrated", "identity",
        "The generator delivers the dialled task and feature correlation, and (0, 0) is independent",
        "02_data_generation.ipynb",
        Test("calibration", "max |measured Cramér's V − t| ≤ 0.03 and max |measured residual correlation − α| ≤ 0.05 "
             "over every dial setting and seed; chi-square independence not rejected at (0, 0) in most seeds",
             "|V − t| (Cramér's V)", "dial setting × seed", "identity", "deterministic tolerance check")),
    ClaimSpec(
        "C6_linear_model_limits", "identity",
        "In a shallow linear model Alice's optimal weights go from [1, 0] at α = 0 to [1, ±1] as α → ±1",
        "01_linear_model.ipynb",
        Test("closed form", "cosine of the closed-form w* with [1, 0] and [1, ±1], and of logistic fits with the "
             "closed form (all ≥ 0.99)", "cosine", "closed form", "identity", "deterministic tolerance check")),
    ClaimSpec(
        "D1_protocol_health_depth", "diagnostic",
        "Every Bob and Alice behind the findings of notebook 04 is trained to convergence, tuned inside his grid",
        "04_bob_transfer_by_depth.ipynb",
        Test("health", "per (k, mode, source): fraction of Bobs whose chosen learning rate or L2 strength is at an "
             "end of the values tried, and fraction stopped by the epoch or iteration cap; fraction of Alices stopped "
             f"by the cap; each ≤ {HEALTH_MAX:g}", "fraction of runs", "run", "identity",
             "worst fraction against its bound")),
    ClaimSpec(
        "D2_protocol_health_zero", "diagnostic",
        "Every Bob and Alice behind the findings of notebook 05 is trained to convergence, tuned inside his grid",
        "05_zero_correlation.ipynb",
        Test("health", "as D1, over notebook 05's runs", "fraction of runs", "run", "identity",
             "worst fraction against its bound")),
    ClaimSpec(
        "D3_protocol_health_cases", "diagnostic",
        "Every Bob and Alice behind the case-study finding is trained to convergence, tuned inside his grid",
        "08_case_study_open_images.ipynb",
        Test("health", "as D1, over the case study's runs", "fraction of runs", "run", "identity",
             "worst fraction against its bound")),
    ClaimSpec(
        "C1_monotonic_task", "empirical",
        "Bob's task accuracy increases monotonically with the correlation between his task and Alice's",
        "04_bob_transfer_by_depth.ipynb",
        Test("raw accuracy at the chosen configuration", "per seed, Bob's test accuracy at his validation-chosen "
             "(k, mode) (Alice's network, α = 0) against the task-correlation dial t; effect: mean per-seed "
             "Kendall τ_a", "Kendall τ_a", "seed", "greater", _SEED_TREND),
        (Test("gain over scratch", "the same accuracy minus scratch (k = L, same world and seed) against t",
              "Kendall τ_a", "seed", "greater", _SEED_TREND),
         Test("unlinked test samples", "accuracy at the chosen configuration on the test samples the dial did not "
              "link, against t", "Kendall τ_a", "seed", "greater", _SEED_TREND)),
        caveat="close to forced: Bob's input holds Alice's panel, which at high t predicts his label, so even "
               "scratch gains with t; whether reuse adds to that is the secondary 'gain over scratch'"),
    ClaimSpec(
        "C1b_monotonic_feature", "empirical",
        "Bob's accuracy increases with feature correlation (in the paper's shallow model: accuracy rises with α)",
        "04_bob_transfer_by_depth.ipynb",
        Test("GLM world", "in the GLM world (α drives the features and, through them, the labels, θ = 0 as in the "
             "linear model), Bob's test accuracy with the top layer retrained (k = 1) against |α|; effect: mean "
             "per-seed Kendall τ_a", "Kendall τ_a", "seed", "greater", _SEED_TREND),
        (Test("GLM world at fixed label correlation", "the same at task correlation t = 0 (θ from glm_theta), "
              "against |α|", "Kendall τ_a", "seed", "greater", _SEED_TREND),
         Test("image overlay: gain over scratch", "image worlds at t = 0: Bob's accuracy at his validation-chosen k "
              "minus scratch, against the overlay dial α", "Kendall τ_a", "seed", "greater", _SEED_TREND),
         Test("image overlay: gain over random init", "image worlds at t = 0: Bob's accuracy at his "
              "validation-chosen k minus the random-init control at the same k, against α", "Kendall τ_a", "seed",
              "greater", _SEED_TREND))),
    ClaimSpec(
        "C2_zero_corr_above_chance", "empirical",
        "With provably uncorrelated tasks and input features, Bob still does significantly better than random, "
        "due to Alice's choice of network and optimizer",
        "05_zero_correlation.ipynb",
        Test("above chance", "at t = α = 0, Bob's test accuracy with Alice's network frozen and his head retrained "
             "(k = 1; cnn, Adam) minus chance (the best constant prediction)", "accuracy (fraction)", "seed",
             "greater", _SIGN_FLIP),
        (Test("above the random-init control", "the same Bob minus Bob on an untrained network of the same "
              "architecture (paired by seed)", "accuracy (fraction)", "seed", "greater", _SIGN_FLIP),),
        caveat="close to forced: a converged head on an untrained network's features is far above chance too; "
               "whether Alice's training is the cause is the secondary 'above the random-init control' (and C3)"),
    ClaimSpec(
        "C3_luck_from_architecture_optimizer", "empirical",
        "Bob's better-than-random accuracy at zero correlation is due to Alice's choice of network and optimizer",
        "05_zero_correlation.ipynb",
        Test("architecture and weight decay, directional", "at t = α = 0, k = 1, Bob's accuracy above chance: "
             "(i) higher on Alice's cnn than on her mlp (weight sharing lets filters trained on her panel read "
             "Bob's; an mlp's weights on Bob's panel learn nothing of use), per seed averaged over her optimizers; "
             "(ii) lower as her SGD weight decay rises (0 → 1e-4 → 1e-3: decay erases the weights her task does "
             "not need), per seed averaged over architectures; both must hold; effect: (i)'s mean difference",
             "accuracy (fraction)", "seed", "greater",
             "(i) exact sign-flip test over seeds; (ii) exact within-seed permutation test of Mann–Kendall's S "
             "(less); intersection–union: both at 0.05"),
        (Test("optimizer family", "Bob's above-chance accuracy differs between Alice's optimizers (sgd, adam, "
              "adamw, weight-decay levels), within architecture × seed", "variance of level means", "seed",
              "two-sided", "permutation test of optimizer labels within architecture × seed (Monte Carlo)"),
         Test("cnn benefit over random init", "Bob on Alice's cnn minus on an untrained cnn", "accuracy (fraction)",
              "seed", "greater", _SIGN_FLIP),
         Test("mlp benefit over random init", "Bob on Alice's mlp minus on an untrained mlp", "accuracy (fraction)",
              "seed", "greater", _SIGN_FLIP))),
    ClaimSpec(
        "C4_optimal_depth_tracks_correlation", "empirical",
        "With little correlation, reusing only lower layers (retraining more) is preferable, and the optimal "
        "number of retrained layers is hypothesised to indicate the correlation",
        "04_bob_transfer_by_depth.ipynb",
        Test("validation-chosen k*", "(i) at t = 0, Bob's test accuracy at his validation-chosen k* exceeds his "
             "accuracy at k = 1 (per seed, averaged over modes and n_bob); (ii) k* falls as t rises (per seed, k* "
             "averaged over both modes and every n_bob: they share the seed's Alice and world); both must hold; "
             "effect: (ii)'s mean Kendall τ_a", "Kendall τ_a", "seed", "less",
             "(i) exact sign-flip test over seeds (greater); (ii) exact within-seed permutation test of "
             "Mann–Kendall's S (less); intersection–union: both at 0.05"),
        (Test("Δ(t) = acc(k=2) − acc(k=1)", "per seed (averaged over n_bob), the test-accuracy gain of retraining "
              "two layers over one (reinit) against t", "Kendall τ_a", "seed", "less",
              _SEED_TREND.replace("one-sided", "less")),)),
    ClaimSpec(
        "C4b_depth_reveals_correlation", "empirical",
        "Companion finding, beyond the paper: given the architecture and n_bob, the task correlation can be read "
        "back from Bob's validation accuracies over the depths he retrains (the paper's hypothesised converse, read "
        "literally — from the optimal depth k* alone — is the secondary 'k* alone')",
        "09_depth_reveals.ipynb",
        Test("leave-one-seed-out map from Δ_val to t", "per (architecture, n_bob) at α = 0: Δ_val = Bob's "
             "validation accuracy at k = 2 (reinit) minus at k = 1; for each held-out seed, an isotonic map t̂(Δ_val) "
             "fitted on the other seeds' worlds predicts t for the held-out seed's worlds; effect: the mean absolute "
             "error of the constant guess (the other seeds' median t) minus the map's, per seed averaged over "
             "conditions", "task correlation t (absolute error)", "seed", "greater", _LOSO_PERM),
        (Test("k* alone", "the same map from Bob's validation-chosen depth k* (over both modes) instead of Δ_val: the "
              "converse as the paper words it", "task correlation t (absolute error)", "seed", "greater", _LOSO_PERM),
         Test("beyond task difficulty", "the Δ_val map's error reduction minus that of the same map from Bob's scratch "
              "validation accuracy alone (k = L, reinit: no use of Alice), per seed", "task correlation t "
              "(absolute error)", "seed", "greater", _SIGN_FLIP_LOSO),
         Test("across n_bob", "the map fitted at the largest n_bob (other seeds) predicting t at every smaller "
              "n_bob (held-out seed), against the constant guess", "task correlation t (absolute error)", "seed",
              "greater", _LOSO_PERM),
         Test("across α", "the map fitted at α = 0 (the feature axis's n_bob, other seeds) predicting t in the "
              "overlay worlds α > 0 (held-out seed), against the constant guess",
              "task correlation t (absolute error)", "seed", "greater", _LOSO_PERM),
         Test("α recoverable", "at each task correlation of the feature axis, the same leave-one-seed-out map from "
              "Δ_val to the overlay dial α, against the constant guess; averaged over those t",
              "feature correlation α (absolute error)", "seed", "greater", _LOSO_PERM)),
        not_tested_when="fewer than three seeds or fewer than three task-correlation levels",
        caveat="close to forced against a constant: Bob's input holds Alice's panel, which at high t predicts his "
               "label, so every accuracy of his — scratch included — rises with t and carries t; whether the depth "
               "curve tells more than task difficulty is the secondary 'beyond task difficulty'. The map is fitted "
               "within one condition (architecture, n_bob, α = 0): α and the architecture also move Δ_val; "
               "'across n_bob' and 'across α' ask whether it survives a change of condition, and with one "
               "architecture in the sweep the architecture confound is stated, not measured",
        origin="companion"),
    ClaimSpec(
        "C8_estimators_predict_depth", "empirical",
        "Companion finding, beyond the paper: transferability estimators computed on Alice's frozen features at each "
        "cut, before Bob trains, rank the depths as Bob's trained accuracy does",
        "09_depth_reveals.ipynb",
        Test("LogME ranks depths", "per world of the main sweep (α = 0, every t and n_bob, every depth trained): "
             "Kendall τ_b between LogME of Alice's features at each cut (on the training part of Bob's pairs; the cut "
             "for k = L is the input) and Bob's validation accuracy at that depth (the better of his modes); effect: "
             "the mean over seeds of their worlds' mean τ_b; baseline: an uninformative score (τ = 0)",
             "Kendall τ_b", "seed", "greater", _RANK_PERM),
        (Test("H-score ranks depths", "the same with the published H-score (pseudo-inverse covariance; values equal "
              "up to rounding tie)", "Kendall τ_b", "seed", "greater", _RANK_PERM),
         Test("regularised H-score ranks depths", "the same with the Ledoit–Wolf regularised H-score",
              "Kendall τ_b", "seed", "greater", _RANK_PERM),
         Test("LogME against the reinit curve", "LogME's τ_b with Bob's validation accuracy in reinit mode alone "
              "(the top k layers trained afresh on the cut: what a score of the cut evaluates)", "Kendall τ_b",
              "seed", "greater", _RANK_PERM),
         Test("LogME beats a featureless prior", "LogME's τ_b minus that of the other seeds' mean validation curve "
              "over k at the same n_bob (a rule of thumb from earlier runs, no features), per seed",
              "Kendall τ_b", "seed", "greater", _SIGN_FLIP_LOSO)),
        not_tested_when="fewer than three seeds",
        caveat="a score sees the features only, never Bob's training: at k = L its cut is the input pixels, and a "
               "finetuned Bob starts his top layers from Alice's weights, which no score of the cut sees; LEEP and "
               "NCE score Alice's output layer and cannot rank cuts, so they are reported per world (against Bob's "
               "best accuracy along t and α), not tested here",
        origin="companion"),
    ClaimSpec(
        "M1_attribution_shift", "manipulation check",
        "The overlay puts Alice's signal into Bob's panel: her attribution share on it rises with α",
        "06_attribution.ipynb",
        Test("IG share", "at t = 0, Alice's Integrated-Gradients share on Bob's panel against the overlay dial α",
             "Kendall τ_a", "seed", "greater", _SEED_TREND)),
    ClaimSpec(
        "C5_attribution_matches_reliance", "empirical",
        "Attribution shows where transfer comes from: where Bob's model attributes to his panel, it relies on it",
        "06_attribution.ipynb",
        Test("attribution vs reliance", "across Bob's models (every α and seed), Spearman ρ between the IG share "
             "on Bob's panel and the accuracy lost when that panel is randomised", "Spearman ρ", "model",
             "greater", "permutation test of reliance within α × model (Monte Carlo): the trend both share along "
             "the overlay dial is not taken for agreement")),
    ClaimSpec(
        "C7_semantic_transfer", "empirical",
        "In controlled real-world scenarios Bob reuses Alice's network effectively when the tasks are "
        "semantically correlated",
        "08_case_study_open_images.ipynb",
        Test("reuse vs scratch by relatedness", "(i) for the related tasks, Bob's test accuracy at his "
             "validation-chosen (k, mode) exceeds scratch (k = L), paired over seeds (related task × seed); "
             "(ii) that gain, per task averaged over seeds, rises with relatedness (unrelated < other < related); "
             "both must hold; effect: (i)'s mean gain", "accuracy (fraction)", "task × seed; task", "greater",
             "(i) exact sign-flip test over related task × seed pairs; (ii) exact permutation test of Mann–Kendall's "
             "S over tasks; intersection–union: both at 0.05"),
        (Test("error reduction tracks measured correlation", "per task, relative error reduction over scratch "
              "against the measured task correlation (Cramér's V of Alice's predictions vs Bob's labels)",
              "Kendall τ", "task", "greater", "exact permutation test of Kendall τ over tasks"),),
        not_tested_when="the instrument has no headroom, its relatedness labels are not what the data measure, or it "
                        "has too few units: scratch accuracy above 0.85 on any task; the measured task correlation "
                        "not higher on related than on unrelated tasks; or a smallest reachable p not below 0.05"),
)

SPEC: dict[str, ClaimSpec] = {s.id: s for s in _SPECS}


def spec_hash() -> str:
    """Hash of the whole spec (every claim's words and tests) with its version."""
    return stable_hash({"version": SPEC_VERSION, "claims": [asdict(s) for s in _SPECS]})


