"""Simulation-based inference with a known answer: the Gaussian linear task.

    theta ~ N(0, 0.1 I_10),   x | theta ~ N(theta, 0.1 I_10)

The posterior is Gaussian in closed form: precision 1/0.1 + 1/0.1 = 20 per dimension, so

    p(theta | x) = N(x / 2, 0.05 I_10)

(checked here by a Monte-Carlo regression on the simulated pairs). A context-conditional
RealNVP `q(theta | x)` (context = x) is trained by maximum likelihood on simulated pairs
(neural posterior estimation), then:

- KL(q || p) at 5 held-out observations, estimated with flow samples and the flow's own
  log-density: mean over theta_j ~ q(. | x_o) of log q(theta_j | x_o) - log p(theta_j | x_o);
  and KL(p || q) with samples of the true posterior.
- Simulation-based calibration (Talts et al. 2018, arXiv:1804.06788): for 200 held-out
  pairs (theta_i, x_i), the rank of theta_i among L posterior draws from q(. | x_i), per
  dimension; calibrated posteriors give ranks uniform on {0, ..., L}. Chi-square test on
  binned ranks (pooled and per dimension), plus the same test on the true posterior
  (should pass) and on a 1.5x over-dispersed one (should fail: the test has power).

    python benchmarks/sbi_gaussian_linear.py --out benchmarks/sbi_gaussian_linear

writes `<out>.json` and the rank histogram `<out>_sbc.png`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from scipy import stats  # noqa: E402

import tfflow  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases"))

from bench_common import cpu_model  # noqa: E402

DIM, PRIOR_VAR, NOISE_VAR = 10, 0.1, 0.1
POST_VAR = 1.0 / (1.0 / PRIOR_VAR + 1.0 / NOISE_VAR)  # 0.05


def simulate(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    theta = rng.normal(0.0, np.sqrt(PRIOR_VAR), (n, DIM))
    x = theta + rng.normal(0.0, np.sqrt(NOISE_VAR), (n, DIM))
    return theta.astype(np.float32), x.astype(np.float32)


def true_posterior(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Mean and (isotropic) variance of p(theta | x)."""
    return x * (POST_VAR / NOISE_VAR), POST_VAR


def true_log_posterior(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    mean, var = true_posterior(x)
    return stats.norm.logpdf(theta, mean, np.sqrt(var)).sum(-1)


def check_closed_form(theta: np.ndarray, x: np.ndarray) -> dict:
    """Least-squares regression of theta on x: slope ~ 1/2, residual variance ~ 0.05."""
    slope = float(np.sum(theta * x) / np.sum(x * x))
    residual = float(np.var(theta - slope * x))
    return {"regression_slope": slope, "residual_variance": residual}


def sbc_ranks(draw, theta: np.ndarray, x: np.ndarray, samples: int) -> np.ndarray:
    """Ranks (0..samples) of each true theta among `samples` posterior draws, per dimension."""
    ranks = np.empty_like(theta, dtype=np.int64)
    for i in range(len(theta)):
        draws = draw(x[i], samples)
        ranks[i] = np.sum(draws < theta[i], axis=0)
    return ranks


def uniformity(ranks: np.ndarray, samples: int, bins: int) -> dict:
    """Chi-square test of binned ranks against the uniform on {0, ..., samples}."""
    edges = np.linspace(-0.5, samples + 0.5, bins + 1)

    def test(values):
        counts, _ = np.histogram(values, edges)
        expected = np.full(bins, len(values) / bins)
        return float(stats.chisquare(counts, expected).pvalue)

    per_dim = [test(ranks[:, d]) for d in range(ranks.shape[1])]
    return {
        "pooled_chi2_p": test(ranks.ravel()),
        "per_dim_chi2_p_min": min(per_dim),
        "per_dim_chi2_p_bonferroni_min": min(1.0, min(per_dim) * len(per_dim)),
        "pooled_ks_p": float(stats.kstest((ranks.ravel() + 0.5) / (samples + 1), "uniform").pvalue),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=int, default=100_000, help="simulated training pairs")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--coupling-layers", type=int, default=6)
    parser.add_argument("--hidden-units", type=int, default=64)
    parser.add_argument(
        "--context-prior", action="store_true", help="learned context-dependent top prior"
    )
    parser.add_argument("--sbc-pairs", type=int, default=200)
    parser.add_argument("--sbc-samples", type=int, default=100)
    parser.add_argument("--sbc-bins", type=int, default=10)
    parser.add_argument("--kl-samples", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/sbi_gaussian_linear")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    theta, x = simulate(args.train, rng)
    theta_val, x_val = simulate(5_000, rng)
    closed_form = check_closed_form(theta, x)

    model = tfflow.RealNVP(
        (DIM,),
        coupling_layers=args.coupling_layers,
        hidden_units=args.hidden_units,
        context_shape=(DIM,),
        context_features=64,
        context_prior=args.context_prior,
    )
    steps = args.epochs * (args.train // args.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(schedule))
    train = (
        tf.data.Dataset.from_tensor_slices((theta, x))
        .shuffle(args.train, seed=args.seed)
        .batch(args.batch_size, drop_remainder=True)
        .prefetch(2)
    )
    start = time.perf_counter()
    history = model.fit(
        train, epochs=args.epochs, validation_data=(theta_val, x_val), verbose=0
    ).history
    train_seconds = time.perf_counter() - start
    # Reference: the true posterior's own expected negative log-density on validation pairs.
    true_nll = float(-np.mean(true_log_posterior(theta_val, x_val)))

    # KL at 5 held-out observations.
    theta_obs, x_obs = simulate(5, rng)
    kl = []
    for i in range(5):
        context = x_obs[i]
        draws = model.sample(args.kl_samples, seed=1000 + i, context=context)
        log_q = model.log_prob(draws, context=context).numpy()
        log_p = true_log_posterior(draws.numpy(), context[None])
        reverse = log_q - log_p
        mean, var = true_posterior(context)
        exact = rng.normal(mean, np.sqrt(var), (args.kl_samples, DIM)).astype(np.float32)
        forward = (
            true_log_posterior(exact, context[None])
            - model.log_prob(exact, context=context).numpy()
        )
        kl.append(
            {
                "kl_q_p": float(reverse.mean()),
                "kl_q_p_stderr": float(reverse.std() / np.sqrt(len(reverse))),
                "kl_p_q": float(forward.mean()),
                "kl_p_q_stderr": float(forward.std() / np.sqrt(len(forward))),
                "posterior_mean_error": float(
                    np.linalg.norm(draws.numpy().mean(0) - mean) / np.sqrt(DIM)
                ),
                "posterior_std_ratio": float(draws.numpy().std(0).mean() / np.sqrt(var)),
            }
        )
    # Scale of the KL values: the prior as a posterior, KL(prior || true posterior).
    prior_kl = float(
        np.mean(
            [
                0.5
                * np.sum(
                    PRIOR_VAR / POST_VAR
                    - 1
                    + true_posterior(x_obs[i])[0] ** 2 / POST_VAR
                    + np.log(POST_VAR / PRIOR_VAR)
                )
                for i in range(5)
            ]
        )
    )

    # Simulation-based calibration.
    theta_sbc, x_sbc = simulate(args.sbc_pairs, rng)
    samples = args.sbc_samples
    flow_ranks = sbc_ranks(
        lambda c, n: model.sample(n, context=c).numpy(), theta_sbc, x_sbc, samples
    )

    def exact_draws(c, n, inflate=1.0):
        mean, var = true_posterior(c)
        return rng.normal(mean, inflate * np.sqrt(var), (n, DIM))

    true_ranks = sbc_ranks(exact_draws, theta_sbc, x_sbc, samples)
    wide_ranks = sbc_ranks(lambda c, n: exact_draws(c, n, inflate=1.5), theta_sbc, x_sbc, samples)
    result = {
        "command": "python benchmarks/sbi_gaussian_linear.py "
        + " ".join(
            f"--{k.replace('_', '-')}" + ("" if isinstance(v, bool) else f" {v}")
            for k, v in vars(args).items()
            if v is not False
        ),
        "closed_form_check": closed_form,
        "train_seconds": train_seconds,
        "final_train_nll": history["loss"][-1],
        "final_val_nll": history["val_loss"][-1],
        "true_posterior_val_nll": true_nll,
        "kl": kl,
        "kl_q_p_mean": float(np.mean([k["kl_q_p"] for k in kl])),
        "kl_p_q_mean": float(np.mean([k["kl_p_q"] for k in kl])),
        "prior_as_posterior_kl": prior_kl,
        "sbc_flow": uniformity(flow_ranks, samples, args.sbc_bins),
        "sbc_true_posterior": uniformity(true_ranks, samples, args.sbc_bins),
        "sbc_overdispersed_1.5x": uniformity(wide_ranks, samples, args.sbc_bins),
        "cpu": cpu_model(),
    }
    with open(args.out + ".json", "w") as f:
        json.dump(result, f, indent=2)
    _plot(flow_ranks, samples, args.sbc_bins, args.out + "_sbc.png", result["sbc_flow"])
    print(json.dumps(result, indent=2))
    return result


def _plot(ranks: np.ndarray, samples: int, bins: int, path: str, test: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = np.linspace(-0.5, samples + 0.5, bins + 1)
    fig, axes = plt.subplots(2, 5, figsize=(12, 4.5), sharex=True, sharey=True)
    expected = len(ranks) / bins
    band = stats.binom.interval(0.99, len(ranks), 1.0 / bins)
    for d, ax in enumerate(axes.ravel()):
        ax.hist(ranks[:, d], edges, color="tab:blue", alpha=0.8)
        ax.axhspan(band[0], band[1], color="grey", alpha=0.25)
        ax.axhline(expected, color="black", lw=0.8)
        ax.set_title(f"theta[{d}]", fontsize=9)
    fig.suptitle(
        f"SBC ranks of {len(ranks)} held-out pairs, {samples} flow draws each "
        f"(grey: 99% band under uniformity); pooled chi-square p = {test['pooled_chi2_p']:.3f}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
