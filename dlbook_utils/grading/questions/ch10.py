"""Chapter 10 (trends and FAQ): three function questions on what the chapter measures -- the
membership-inference advantage (10.7), FGSM on a linear classifier (10.8) and a power-law fit in
log-log space (10.9). The multiple-choice questions (diagnosing training curves, remedies, data
splits, history) are kept as data in ``ch10_choices.yml``.

Conventions, as in ``book/10_trends_faq``: the loss-threshold attack says "member" when an
example's loss is at most tau, the mean member loss (eq-mi-advantage); FGSM steps by eps along
the sign of the input gradient of the loss and clips to [0, 1] (eq-fgsm); a power law
L(n) = a n^(-alpha) is a straight line through (log n, log L) (eq-power-law).
"""

import numpy as np

from ..registry import Mistake, function_question

SECTION = "../book/10_trends_faq.ipynb"


# ---------------------------------------------------------------- 10.7 membership advantage
def _advantage(members, others, tau=None, flag=np.less_equal, rate=np.mean):
    """TPR - FPR of "member iff loss <= tau"; the keywords plant the classic mistakes."""
    members, others = np.asarray(members, float), np.asarray(others, float)
    tau = members.mean() if tau is None else tau
    return float(rate(flag(members, tau)) - rate(flag(others, tau)))


def _mi_case(r, m, k, gap):
    """m member losses, k non-member losses; members fit better (lower loss) by ``gap``."""
    return r.exponential(1.0, m), gap + r.exponential(1.0, k)


# Case 1 has ties at tau = 1.0 (members 1.0, 1.0, a non-member 1.0): "<=" and "<" differ there.
# Unequal sizes everywhere, so that counts and rates differ.
_r = np.random.default_rng(107)
_MI_CASES = [
    (np.array([0.5, 1.0, 1.5, 1.0]), np.array([1.0, 2.0, 3.0, 0.5, 2.5])),
    _mi_case(_r, 30, 50, 0.3),
    _mi_case(_r, 60, 40, 0.0),  # the same distribution: an advantage near 0
    # far apart, but one member above tau = 0.4: TPR 3/4, FPR 0 (the median 0.25 gives 2/4)
    (np.array([0.1, 0.2, 0.3, 1.0]), np.array([2.0, 3.0, 4.0, 5.0, 6.0, 7.0])),
]

function_question(
    "10.7", "Membership inference: the advantage of the loss-threshold attack",
    name="membership_advantage", reference=_advantage, cases=_MI_CASES,
    random_cases=lambda rng: [_mi_case(rng, int(rng.integers(10, 80)), int(rng.integers(10, 80)),
                                       float(rng.uniform(0, 1)))],
    batch_size_of=lambda args: None, rtol=1e-9, atol=1e-12, section=SECTION + "#trend-privacy",
    mistakes=[
        Mistake("mi-wrong-direction", "Your advantage has the opposite sign. A model fits its "
                "members better, so members have the LOWER loss: guess 'member' when loss <= "
                "tau, and subtract the non-members' rate (FPR) from the members' rate (TPR), "
                "not the other way round.",
                variant=lambda m, o: -_advantage(m, o)),
        Mistake("mi-strict-threshold", "The attack says 'member' when the loss is AT MOST tau "
                "(loss <= tau): an example whose loss equals tau counts as flagged.",
                variant=lambda m, o: _advantage(m, o, flag=np.less)),
        Mistake("mi-threshold-from-outsiders", "tau is the mean MEMBER loss, the training loss "
                "the attacker is assumed to know; you took it from the non-members (examples "
                "the model never saw).",
                variant=lambda m, o: _advantage(m, o, tau=np.mean(o))),
        Mistake("mi-threshold-pooled", "tau is the mean of the members' losses alone, not of "
                "members and non-members pooled.",
                variant=lambda m, o: _advantage(m, o, tau=np.mean(np.concatenate([m, o])))),
        Mistake("mi-threshold-median", "tau is the MEAN member loss (as in Yeom et al.), not "
                "the median.", variant=lambda m, o: _advantage(m, o, tau=np.median(m))),
        Mistake("mi-counts-not-rates", "TPR and FPR are rates: divide the number of flagged "
                "members by the number of members, and the flagged non-members by the number "
                "of non-members.", variant=lambda m, o: _advantage(m, o, rate=np.sum)),
        Mistake("mi-rates-over-all", "Each rate has its own denominator: TPR divides by the "
                "number of members, FPR by the number of non-members, not both by the total.",
                variant=lambda m, o: _advantage(
                    m, o, rate=lambda f: np.sum(f) / (len(m) + len(o)))),
        Mistake("mi-attack-accuracy", "That is the attack's balanced accuracy, (TPR + 1 - "
                "FPR) / 2 = (1 + advantage) / 2. The advantage is TPR - FPR: 0 when the "
                "losses reveal nothing, not 0.5.",
                variant=lambda m, o: (1 + _advantage(m, o)) / 2),
    ],
)


# ---------------------------------------------------------------- 10.8 FGSM on a linear classifier
def _fgsm_linear(X, y, w, b, eps, direction="loss", clip=True):
    """x + eps sign(dl/dx) for l = log(1 + exp(-y (w.x + b))), clipped to [0, 1]: X (n, d),
    y (n,) in {-1, +1}, w (d,) -> X_adv (n, d). dl/dx = -y sigmoid(-y f) w, and the sigmoid is
    positive, so the sign is -y sign(w) whatever x and b are."""
    f = X @ w + b
    grad = (-y * 0.5 * (1 + np.tanh(-y * f / 2)))[:, None] * w  # sigmoid via tanh: no overflow
    step = {"loss": np.sign(grad), "descend": -np.sign(grad), "score": np.sign(w) + 0 * X,
            "l2": grad / np.linalg.norm(grad, axis=1, keepdims=True), "raw": grad}[direction]
    X_adv = X + eps * step
    return np.clip(X_adv, 0.0, 1.0) if clip else X_adv


def _fgsm_case(r, n, d):
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)  # both labels in every case
    return (r.uniform(0, 1, (n, d)), r.permutation(y), r.normal(0, 1, d), float(r.normal()),
            float(r.uniform(0.05, 0.3)))


_r = np.random.default_rng(108)
function_question(
    "10.8", "FGSM against a linear classifier", name="fgsm_linear", reference=_fgsm_linear,
    cases=[_fgsm_case(_r, 2, 3), _fgsm_case(_r, 5, 8), _fgsm_case(_r, 4, 64)],
    random_cases=lambda rng: [_fgsm_case(rng, int(rng.integers(2, 7)), int(rng.integers(3, 20)))],
    batch_size_of=lambda args: None, rtol=1e-9, atol=1e-12, section=SECTION + "#trend-security",
    mistakes=[
        Mistake("fgsm-descends", "Your step LOWERS the loss: it helps the classifier. FGSM moves "
                "along +sign(dl/dx); with l = log(1 + exp(-y f)), dl/dx = -y sigmoid(-y f) w, "
                "so x_adv = x - eps * y * sign(w).",
                variant=lambda *a: _fgsm_linear(*a, direction="descend")),
        Mistake("fgsm-score-not-loss", "You pushed the SCORE up for every example (x + eps "
                "sign(w)). The attack raises the LOSS: for a label y = +1 the score must go "
                "down, for y = -1 up, i.e. x - eps * y * sign(w).",
                variant=lambda *a: _fgsm_linear(*a, direction="score")),
        Mistake("fgsm-l2-step", "You stepped along the normalised gradient g / ||g||_2 (an "
                "L2-ball step). FGSM moves EVERY coordinate by eps, along sign(g): that is the "
                "largest step in the L-infinity ball, and it gains eps ||w||_1.",
                variant=lambda *a: _fgsm_linear(*a, direction="l2")),
        Mistake("fgsm-gradient-not-sign", "You stepped along the gradient itself; FGSM takes "
                "its SIGN, so that every coordinate moves by exactly eps.",
                variant=lambda *a: _fgsm_linear(*a, direction="raw")),
        Mistake("fgsm-no-clip", "Pixels live in [0, 1]: clip x_adv to that range after the "
                "step (np.clip), as eq-fgsm does.",
                variant=lambda *a: _fgsm_linear(*a, clip=False)),
    ],
)


# ---------------------------------------------------------------- 10.9 power-law fit
def _fit_power_law(n, loss):
    """(a, alpha) of loss = a n^(-alpha), least squares through (log n, log loss)."""
    slope, intercept = np.polyfit(np.log(n), np.log(loss), 1)
    return float(np.exp(intercept)), float(-slope)


def _power_case(r, k, noise):
    n = np.unique(np.round(np.geomspace(r.integers(50, 300), r.integers(2000, 20000), k)))
    a, alpha = float(r.uniform(0.5, 20)), float(r.uniform(0.1, 0.8))
    return n.astype(int), a * n ** -alpha * np.exp(noise * r.normal(size=len(n)))


def _linear_scale(n, loss):
    slope, intercept = np.polyfit(np.asarray(n, float), loss, 1)
    return float(intercept), float(-slope)


def _linear_scale_exp(n, loss):
    a, alpha = _linear_scale(n, loss)
    return float(np.exp(a)), alpha


def _semi_log(n, loss):
    slope, intercept = np.polyfit(np.asarray(n, float), np.log(loss), 1)
    return float(np.exp(intercept)), float(-slope)


def _bases(n, loss, log=np.log, undo=np.exp):
    slope, intercept = np.polyfit(log(n), log(loss), 1)
    return float(undo(intercept)), float(-slope)


_r = np.random.default_rng(109)
function_question(
    "10.9", "Fitting a power law in log-log space", name="fit_power_law",
    reference=_fit_power_law, outputs=("a", "alpha"),
    cases=[(np.array([250, 500, 1000, 2000, 4000]), 7.0 * np.array([250, 500, 1000, 2000, 4000],
                                                                    float) ** -0.3),
           _power_case(_r, 5, 0.05), _power_case(_r, 8, 0.1)],
    random_cases=lambda rng: [_power_case(rng, int(rng.integers(4, 9)), 0.1)],
    batch_size_of=lambda args: None, rtol=1e-6, atol=1e-12, section=SECTION + "#trend-data",
    mistakes=[
        Mistake("power-law-alpha-sign", "alpha comes out with the wrong sign. The fitted "
                "slope of log L against log n is -alpha: return alpha = -slope, positive for "
                "a loss that falls with n.",
                variant=lambda n, L: (_fit_power_law(n, L)[0], -_fit_power_law(n, L)[1])),
        Mistake("power-law-log-intercept", "The intercept of the line is log a: return "
                "a = exp(intercept), not the intercept itself.",
                variant=lambda n, L: (float(np.log(_fit_power_law(n, L)[0])),
                                      _fit_power_law(n, L)[1])),
        Mistake("power-law-log10-then-exp", "You fitted with log10 but undid the intercept "
                "with exp: use the same base both ways (a = 10 ** intercept after log10, or "
                "log and exp). alpha is right: the slope does not depend on the base.",
                variant=lambda n, L: _bases(n, L, log=np.log10, undo=np.exp)),
        Mistake("power-law-log-then-10", "You fitted with the natural log but undid the "
                "intercept with 10 **: after np.log, a = exp(intercept).",
                variant=lambda n, L: _bases(n, L, undo=lambda c: 10.0 ** c)),
        Mistake("power-law-linear-scale", "You fitted a straight line to L against n on the "
                "linear scale. A power law is straight only on log-log axes: fit log L "
                "against log n.", variant=_linear_scale),
        Mistake("power-law-linear-scale-exp", "You fitted a straight line to L against n, then "
                "took exp of its intercept: the logs are missing in the fit. Fit log L against "
                "log n; then a = exp(intercept).", variant=_linear_scale_exp),
        Mistake("power-law-semi-log", "You took the log of L but not of n: that fits an "
                "exponential, L = a exp(-alpha n). Fit log L against log n.",
                variant=_semi_log),
        Mistake("power-law-swapped-outputs", "Return (a, alpha) in that order: the constant "
                "first, then the exponent.",
                variant=lambda n, L: _fit_power_law(n, L)[::-1]),
    ],
)
