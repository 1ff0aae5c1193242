"""The MoE-MMVAE objective (Shi et al. 2019) with Laplace prior, posteriors and likelihoods.

For each modality m, K samples z_k ~ q(z | x_m) are scored with importance weights against the
*mixture* of the unimodal posteriors::

    log w_k = log p(x_spec | z_k, phase) + w_lc · log p(x_lc | z_k) + β [log p(z_k) − log q_mix(z_k)]
    L_m     = log (1/K) Σ_k w_k         (IWAE bound; β = 1, w_lc = 1 gives the exact MMVAE IWAE bound)

and the loss is −mean_m L_m averaged over the batch, divided by the number of spectral bins (a
constant, for a learning rate that does not depend on the grid).  Every sample is decoded into *both*
modalities, so the light-curve posterior is trained to generate spectra (cross-generation).
"""

from __future__ import annotations

import math

import torch

__all__ = ["laplace_logpdf", "laplace_sample", "observation_scale", "mmvae_iwae_loss"]

_SQRT2 = math.sqrt(2.0)


def laplace_logpdf(x: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Elementwise log density of Laplace(loc, scale) at x."""
    return -torch.log(2.0 * scale) - (x - loc).abs() / scale


def laplace_sample(loc: torch.Tensor, scale: torch.Tensor, k: int) -> torch.Tensor:
    """(k, *loc.shape) reparameterised samples."""
    u = torch.rand((k, *loc.shape), device=loc.device, dtype=loc.dtype).clamp(1e-6, 1 - 1e-6) - 0.5
    return loc - scale * torch.sign(u) * torch.log1p(-2.0 * u.abs())


def observation_scale(model_scale: torch.Tensor, err: torch.Tensor) -> torch.Tensor:
    """Laplace scale of an observation: the decoder's scale plus the measurement σ as a Laplace scale (σ/√2)."""
    return model_scale + err.clamp_min(0.0) / _SQRT2


def mmvae_iwae_loss(model, lc, spec, phase: torch.Tensor, *, lc_encoder_mask: torch.Tensor | None = None,
                    encoder_phase: torch.Tensor | None = None, beta: float | None = None
                    ) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss of one batch of pairs.

    Parameters
    ----------
    lc : LightCurveBatch
        Targets: ``flux``/``flux_err`` at every real point (``mask``).
    spec : SpectrumBatch
        Targets in the spectrum target space (``flux``/``flux_err``/``mask`` on the model grid).
    phase : (B,) tensor
        True spectral phase (days from the brightest light-curve point) given to the decoder.
    lc_encoder_mask : (B, L) bool, optional
        Points the light-curve encoder may see (masking augmentation); default ``lc.mask``.
    encoder_phase : (B,) tensor, optional
        Phase given to the spectrum encoder (NaN = unknown, phase dropout); default ``phase``.
    beta : float, optional
        Overrides ``config.beta`` (the training loop's β warm-up against posterior collapse).
    """
    c = model.config
    beta = c.beta if beta is None else float(beta)
    K = c.iwae_samples
    B = phase.shape[0]
    posts = {"lightcurve": model.posterior_lightcurve(lc, lc_encoder_mask),
             "spectrum": model.posterior_spectrum(spec, phase if encoder_phase is None else encoder_phase)}
    prior = torch.tensor(c.prior_scale, device=phase.device)
    M = len(posts)
    terms, stats = [], {}
    for name, (loc, scale) in posts.items():
        z = laplace_sample(loc, scale, K)                               # (K, B, D)
        log_q = torch.stack([laplace_logpdf(z, lo, sc).sum(-1) for lo, sc in posts.values()])  # (M, K, B)
        log_qmix = torch.logsumexp(log_q, 0) - math.log(M)
        log_p = laplace_logpdf(z, torch.zeros_like(z), prior).sum(-1)
        zf = z.reshape(K * B, -1)
        s_loc, s_scale = model.decode_spectrum(zf, phase.repeat(K))
        s_scale = observation_scale(s_scale, spec.flux_err.repeat(K, 1))
        ll_s = (laplace_logpdf(spec.flux.repeat(K, 1), s_loc, s_scale) * spec.mask.repeat(K, 1)).sum(-1)
        l_loc, l_scale = model.decode_lightcurve(zf, lc.time.repeat(K, 1), lc.wavelength.repeat(K, 1))
        l_scale = observation_scale(l_scale, lc.flux_err.repeat(K, 1))
        ll_l = (laplace_logpdf(lc.flux.repeat(K, 1), l_loc, l_scale) * lc.mask.repeat(K, 1)).sum(-1)
        ll_s, ll_l = ll_s.reshape(K, B), ll_l.reshape(K, B)
        log_w = ll_s + c.lc_likelihood_weight * ll_l + beta * (log_p - log_qmix)
        bound = torch.logsumexp(log_w, 0) - math.log(K)
        terms.append(-bound.mean())
        stats[f"ll_spec_{name}"] = float(ll_s.detach().mean() / spec.mask.float().sum(-1).clamp_min(1).mean())
        stats[f"ll_lc_{name}"] = float(ll_l.detach().mean() / lc.mask.float().sum(-1).clamp_min(1).mean())
    loss = torch.stack(terms).mean() / spec.flux.shape[1]
    stats["loss"] = float(loss.detach())
    return loss, stats
