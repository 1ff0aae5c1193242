"""The MoE-MMVAE objective (Shi et al. 2019) with Laplace prior, posteriors and likelihoods.

For each modality m, K samples z_k ~ q(z | x_m) are scored with importance weights against the
*mixture* of the unimodal posteriors::

    log w_k = log p(x_spec | z_k, phase) + w_lc · log p(x_lc | z_k) + β [log p(z_k) − log q_mix(z_k)]
    L_m     = log (1/K) Σ_k w_k         (IWAE bound; β = 1, w_lc = 1 gives the exact MMVAE IWAE bound)

and the loss is −mean_m L_m averaged over the batch, divided by the number of spectral bins (a
constant, for a learning rate that does not depend on the grid).  Every sample is decoded into *both*
modalities, so the light-curve posterior is trained to generate spectra (cross-generation).

Two optional terms against posterior collapse / for a retrievable shared space (config keys, both off
by default): free bits, ``β Σ_m Σ_d max(0, free_bits − KL_m,d) / n_bins`` with KL_m,d the batch-mean
analytic KL of dimension d of q(z | x_m) to the prior (:func:`free_bits_penalty`), and
``contrastive_weight × InfoNCE`` between the light-curve and spectrum posterior means
(:func:`paired_infonce`).
"""

from __future__ import annotations

import math

import torch

__all__ = ["laplace_logpdf", "laplace_sample", "laplace_kl", "observation_scale", "free_bits_penalty",
           "paired_infonce", "same_object", "mmvae_iwae_loss"]

_SQRT2 = math.sqrt(2.0)


def laplace_logpdf(x: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Elementwise log density of Laplace(loc, scale) at x."""
    return -torch.log(2.0 * scale) - (x - loc).abs() / scale


def laplace_sample(loc: torch.Tensor, scale: torch.Tensor, k: int) -> torch.Tensor:
    """(k, *loc.shape) reparameterised samples."""
    u = torch.rand((k, *loc.shape), device=loc.device, dtype=loc.dtype).clamp(1e-6, 1 - 1e-6) - 0.5
    return loc - scale * torch.sign(u) * torch.log1p(-2.0 * u.abs())


def laplace_kl(loc: torch.Tensor, scale: torch.Tensor, prior_scale: float | torch.Tensor) -> torch.Tensor:
    """Elementwise KL(Laplace(loc, scale) || Laplace(0, prior_scale)) in nats (closed form, >= 0)."""
    a = loc.abs()
    s = torch.as_tensor(prior_scale, dtype=loc.dtype, device=loc.device)
    return torch.log(s / scale) - 1.0 + a / s + (scale / s) * torch.exp(-a / scale)


def free_bits_penalty(posts, prior_scale: float, floor: float) -> torch.Tensor:
    """Σ over posteriors and latent dimensions of max(0, floor − KL_d), KL_d the batch-mean KL (nats) of
    dimension d to the prior.  Added (× β) to the negative bound, it cancels the bound's pull towards the
    prior on dimensions whose KL is below ``floor`` (free bits); 0 when ``floor`` is 0."""
    out = torch.zeros(())
    for loc, scale in posts:
        kl = laplace_kl(loc, scale, prior_scale).mean(0)            # (D,)
        out = out.to(kl) + torch.relu(floor - kl).sum()
    return out


def same_object(lc) -> torch.Tensor:
    """(B, B) bool: pairs whose light-curve targets are identical (several spectra of one object)."""
    t = torch.cat([lc.time, lc.flux, lc.wavelength, lc.mask.to(lc.flux.dtype)], dim=1)
    return (t[:, None, :] == t[None, :, :]).all(-1)


def paired_infonce(a: torch.Tensor, b: torch.Tensor, temperature: float,
                   positives: torch.Tensor | None = None) -> torch.Tensor:
    """Symmetric InfoNCE (CLIP) between rows of ``a`` and ``b`` (B, D), L2-normalised, cosine / temperature.

    Row i of ``a`` should match row i of ``b``; ``positives`` (B, B) bool marks further matches (same
    object), whose probability mass counts as correct (multi-positive: −log Σ_pos softmax).
    """
    a = torch.nn.functional.normalize(a, dim=-1, eps=1e-8)
    b = torch.nn.functional.normalize(b, dim=-1, eps=1e-8)
    logits = a @ b.T / temperature
    pos = torch.eye(len(a), dtype=torch.bool, device=a.device)
    if positives is not None:
        pos = pos | positives
    neg_inf = torch.finfo(logits.dtype).min

    def one_way(lg, p):
        return -(torch.logsumexp(lg.masked_fill(~p, neg_inf), 1) - torch.logsumexp(lg, 1)).mean()

    return 0.5 * (one_way(logits, pos) + one_way(logits.T, pos.T))


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
    W = spec.flux.shape[1]
    loss = torch.stack(terms).mean() / W
    stats["bound_loss"] = float(loss.detach())
    if c.free_bits > 0:
        fb = free_bits_penalty(posts.values(), c.prior_scale, c.free_bits)
        loss = loss + beta * fb / W
        stats["free_bits_penalty"] = float(fb.detach())
    if c.contrastive_weight > 0:
        nce = paired_infonce(posts["lightcurve"][0], posts["spectrum"][0], c.contrastive_temperature, same_object(lc))
        loss = loss + c.contrastive_weight * nce
        stats["infonce"] = float(nce.detach())
    stats["loss"] = float(loss.detach())
    return loss, stats
