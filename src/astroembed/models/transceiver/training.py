"""Training the Transceiver: paired arrays, the masking augmentation, a time-boxed loop and calibration.

Not imported by ``import astroembed``; ``tools/train_transceiver.py`` and ``benchmarks/eval_transceiver.py``
drive it.  Phases of training pairs are ``spectrum MJD − peak_epoch(light curve)`` (observer-frame days).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from ...config import StrictConfig, check_positive
from ...data.collate import LightCurveBatch, SpectrumBatch
from ...errors import ConfigError

__all__ = ["TrainConfig", "PairArrays", "peak_epoch", "prepare_pairs", "train_model", "fit_calibration",
           "TRAINING_ONLY_KEYS", "apply_training_overrides"]

#: model-config keys that only the training objective / augmentation read, at use time (never the network's
#: shapes, the modules built in ``__init__``, the preprocessing or generation): the only ones a fine-tuning may
#: change on a pre-trained model (``finetune_overrides``).  ``dropout`` and ``min_scale`` are left out on
#: purpose: they are baked into modules when the model is built.
TRAINING_ONLY_KEYS = ("beta", "free_bits", "contrastive_weight", "contrastive_temperature", "lc_likelihood_weight",
                      "iwae_samples", "obs_dropout_max", "min_obs", "phase_dropout")


@dataclass(frozen=True)
class TrainConfig(StrictConfig):
    """Optimisation settings: AdamW (``lr``, ``weight_decay``), cosine decay to ``lr * min_lr_ratio`` after
    ``warmup_steps``; ``batch_size`` pairs per step; stops after ``max_epochs`` or ``minutes`` of wall clock;
    ``val_fraction`` of the objects are held out (early stopping on their loss, every ``eval_every`` steps,
    and the calibration temperature at ``calibration_level`` from ``calibration_samples`` samples);
    ``grad_clip`` max gradient norm; ``beta_warmup_steps``: β rises linearly from 0 to the model's β over
    that many steps (KL annealing against posterior collapse; 0 = off); ``seed``."""

    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    min_lr_ratio: float = 0.05
    batch_size: int = 64
    max_epochs: int = 30
    minutes: float = 10.0
    val_fraction: float = 0.1
    eval_every: int = 200
    grad_clip: float = 1.0
    calibration_level: float = 0.68
    calibration_samples: int = 64
    beta_warmup_steps: int = 0
    seed: int = 0

    def __post_init__(self):
        w = "TrainConfig"
        for k in ("lr", "minutes", "grad_clip"):
            check_positive(f"{w}.{k}", getattr(self, k))
        check_positive(f"{w}.weight_decay", self.weight_decay, allow_zero=True)
        for k in ("warmup_steps", "batch_size", "max_epochs", "eval_every", "calibration_samples", "beta_warmup_steps",
                  "seed"):
            v = getattr(self, k)
            if not isinstance(v, int) or isinstance(v, bool) or v < (
                    0 if k in ("warmup_steps", "seed", "beta_warmup_steps") else 1):
                raise ConfigError(f"{w}.{k}: must be a positive int, got {v!r}")
        for k in ("min_lr_ratio", "val_fraction", "calibration_level"):
            v = getattr(self, k)
            if not isinstance(v, (int, float)) or not 0.0 <= v < 1.0:
                raise ConfigError(f"{w}.{k}: must be in [0, 1), got {v!r}")


def peak_epoch(lc, config) -> float:
    """MJD of the light curve's brightest point as the model sees it (the zero of its time axis)."""
    from ...data.preprocess import preprocess_lightcurve

    p = preprocess_lightcurve(lc, config.lightcurve_preprocess)
    k = int(np.argmax(p.flux))
    # p.time = t - t0 for the kept points; the brightest kept point has p.time == 0
    cand = lc.time[np.isclose(lc.flux, p.flux[k] * 10 ** p.log_scale, rtol=1e-9, atol=0)]
    return float(cand[0]) if len(cand) else float(lc.time[np.argmax(lc.flux)])


@dataclass
class PairArrays:
    """Padded, preprocessed pairs (numpy): light curves (N, L), spectra in target space (N, W), phases (N,)."""

    lc_time: np.ndarray
    lc_flux: np.ndarray
    lc_err: np.ndarray
    lc_wave: np.ndarray
    lc_mask: np.ndarray
    spec_flux: np.ndarray
    spec_err: np.ndarray
    spec_mask: np.ndarray
    phase: np.ndarray
    index: np.ndarray  # position of each pair in the input lists

    def __len__(self) -> int:
        return len(self.phase)

    def subset(self, idx) -> PairArrays:
        return PairArrays(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})

    def save(self, path) -> None:
        np.savez(path, **{k: getattr(self, k) for k in self.__dataclass_fields__})

    @classmethod
    def load(cls, path) -> PairArrays:
        with np.load(path) as f:
            return cls(**{k: f[k] for k in cls.__dataclass_fields__})

    def batch(self, idx, device="cpu") -> tuple[LightCurveBatch, SpectrumBatch, torch.Tensor]:
        L = max(1, int(self.lc_mask[idx].sum(1).max()))
        t = lambda a, dt=torch.float32: torch.as_tensor(a, dtype=dt, device=device)  # noqa: E731
        lc = LightCurveBatch(time=t(self.lc_time[idx, :L]), flux=t(self.lc_flux[idx, :L]),
                             flux_err=t(self.lc_err[idx, :L]), wavelength=t(self.lc_wave[idx, :L]),
                             band_id=torch.zeros((len(idx), L), dtype=torch.long, device=device),
                             mask=t(self.lc_mask[idx, :L], torch.bool),
                             log_scale=torch.zeros(len(idx), device=device))
        sp = SpectrumBatch(flux=t(self.spec_flux[idx]), flux_err=t(self.spec_err[idx]),
                           wavelength=t(np.tile(self._grid, (len(idx), 1))),
                           mask=t(self.spec_mask[idx], torch.bool), log_scale=torch.zeros(len(idx), device=device))
        return lc, sp, t(self.phase[idx])


def prepare_pairs(lightcurves, spectra, config, *, phases=None) -> tuple[PairArrays, list[tuple[int, str]]]:
    """Preprocess aligned light curves and spectra with ``config`` (a TransceiverConfig).

    ``phases`` (N,) days from peak; default ``spectrum.mjd − peak_epoch(lc)``.  Pairs that fail (spectrum
    off the grid, no redshift, no MJD) are skipped and returned as ``(position, reason)``.
    """
    from ...data.preprocess import preprocess_lightcurve, preprocess_spectrum

    L, W = config.lightcurve_preprocess.max_length, config.spectrum_preprocess.n_bins
    rows, skipped = [], []
    for i, (lc, sp) in enumerate(zip(lightcurves, spectra, strict=True)):
        try:
            p = preprocess_lightcurve(lc, config.lightcurve_preprocess)
            s = preprocess_spectrum(sp, config.spectrum_preprocess)
            if phases is not None:
                ph = float(phases[i])
            elif sp.mjd is None:
                raise ValueError("spectrum has no mjd (phase unknown)")
            else:
                ph = float(sp.mjd) - peak_epoch(lc, config)
            if not np.isfinite(ph):
                raise ValueError("phase is not finite")
        except (ValueError, TypeError) as exc:
            skipped.append((i, str(exc)[:200]))
            continue
        rows.append((i, p, s, ph))
    N = len(rows)
    z = lambda *s, dt=np.float32: np.zeros(s, dtype=dt)  # noqa: E731
    out = PairArrays(z(N, L), z(N, L), z(N, L), z(N, L), z(N, L, dt=bool), z(N, W), z(N, W), z(N, W, dt=bool),
                     z(N), np.array([r[0] for r in rows], dtype=np.int64))
    for j, (_, p, s, ph) in enumerate(rows):
        n = len(p)
        out.lc_time[j, :n], out.lc_flux[j, :n], out.lc_err[j, :n] = p.time, p.flux, p.flux_err
        out.lc_wave[j, :n], out.lc_mask[j, :n] = p.wavelength, True
        out.spec_flux[j], out.spec_err[j], out.spec_mask[j] = s.flux, s.flux_err, s.mask
        out.phase[j] = ph
    return out, skipped


def apply_training_overrides(model, overrides, *, where: str = "finetune_overrides"):
    """Replace training-only settings of ``model.config`` (in place; returns the model).

    ``overrides``: a mapping ``{key: value}`` with keys from :data:`TRAINING_ONLY_KEYS` (e.g.
    ``{"contrastive_weight": 4.0}``), or ``None`` / ``{}`` = no change (the config object is kept as is).
    Values are validated by the config dataclass (``TransceiverConfig.__post_init__``).  Any other key —
    one that changes shapes, preprocessing or generation — is a ``ConfigError`` naming it.  The weights are
    untouched; a model saved afterwards records the overridden config (its training objective).
    """
    if overrides is None:
        return model
    if not isinstance(overrides, dict):
        raise ConfigError(f"{where}: expected a mapping {{key: value}} of training-only model settings, got "
                          f"{type(overrides).__name__}")
    bad = sorted(set(overrides) - set(TRAINING_ONLY_KEYS))
    if bad:
        raise ConfigError(f"{where}: key(s) {bad} cannot be changed on a pre-trained model (they change its shapes, "
                          f"modules, preprocessing or generation); allowed: {list(TRAINING_ONLY_KEYS)}. To change "
                          "them train a new model (config 'model')")
    if not overrides:
        return model
    try:
        model.config = model.config.replace(**overrides)
    except ConfigError as e:
        raise ConfigError(f"{where}: {e}") from None
    return model


def _grid_of(config) -> np.ndarray:
    return config.spectrum_preprocess.grid()[1].astype(np.float32)


def _augment(model, lc: LightCurveBatch, phase: torch.Tensor, gen: torch.Generator):
    c = model.config
    B, L = lc.mask.shape
    frac = torch.rand(B, 1, generator=gen) * c.obs_dropout_max
    r = torch.rand(B, L, generator=gen)
    keep = (r >= frac) & lc.mask.cpu()
    r_valid = torch.where(lc.mask.cpu(), r, torch.full_like(r, -1.0))
    top = torch.topk(r_valid, min(c.min_obs, L), dim=1).indices
    keep.scatter_(1, top, True)
    keep &= lc.mask.cpu()
    drop_phase = torch.rand(B, generator=gen) < c.phase_dropout
    enc_phase = torch.where(drop_phase.to(phase.device), torch.full_like(phase, float("nan")), phase)
    return keep.to(lc.mask.device), enc_phase


@torch.no_grad()
def _val_loss(model, data: PairArrays, batch_size: int, device) -> float:
    model.eval()
    tot, n = 0.0, 0
    devices = [torch.device(device).index or 0] if torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):  # fixed noise for comparable values; training RNG untouched
        torch.manual_seed(0)
        for s in range(0, len(data), batch_size):
            idx = np.arange(s, min(len(data), s + batch_size))
            lc, sp, ph = data.batch(idx, device)
            loss, _ = model.loss(lc, sp, ph)
            tot += float(loss) * len(idx)
            n += len(idx)
    return tot / max(n, 1)


def train_model(model, train: PairArrays, val: PairArrays | None, tc: TrainConfig, *, device="cpu", log=print):
    """Train in place (AdamW, warm-up + cosine, masking augmentation); keeps the best validation state.

    Stops after ``tc.max_epochs`` epochs or ``tc.minutes`` minutes.  Returns a history dict.
    """
    grid = _grid_of(model.config)
    train._grid = grid
    if val is not None:
        val._grid = grid
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=tc.lr, weight_decay=tc.weight_decay)
    steps_per_epoch = max(1, math.ceil(len(train) / tc.batch_size))
    total = steps_per_epoch * tc.max_epochs
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, tc.warmup_steps)) * (
        tc.min_lr_ratio + (1 - tc.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / total)))))
    gen = torch.Generator().manual_seed(tc.seed)
    torch.manual_seed(tc.seed)
    rng = np.random.default_rng(tc.seed)
    t0 = time.time()
    best, best_state, hist, step = math.inf, None, {"train": [], "val": []}, 0
    stop = False
    for epoch in range(tc.max_epochs):
        order = rng.permutation(len(train))
        run = []
        for s in range(0, len(order), tc.batch_size):
            model.train()
            idx = np.sort(order[s:s + tc.batch_size])
            lc, sp, ph = train.batch(idx, device)
            keep, enc_phase = _augment(model, lc, ph, gen)
            beta = model.config.beta * (min(1.0, step / tc.beta_warmup_steps) if tc.beta_warmup_steps else 1.0)
            loss, stats = model.loss(lc, sp, ph, lc_encoder_mask=keep, encoder_phase=enc_phase, beta=beta)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"non-finite loss at step {step}: {stats}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
            opt.step()
            sched.step()
            step += 1
            run.append(float(loss.detach()))
            if val is not None and len(val) and step % tc.eval_every == 0:
                v = _val_loss(model, val, 4 * tc.batch_size, device)
                hist["val"].append((step, v))
                if v < best:
                    best, best_state = v, copy.deepcopy(model.state_dict())
                log(f"step {step} epoch {epoch} train {np.mean(run[-tc.eval_every:]):.4f} val {v:.4f} "
                    f"({time.time() - t0:.0f}s)")
            if time.time() - t0 > 60 * tc.minutes:
                stop = True
                break
        hist["train"].append(float(np.mean(run)) if run else float("nan"))
        log(f"epoch {epoch}: train loss {hist['train'][-1]:.4f} ({time.time() - t0:.0f}s, {step} steps)")
        if stop:
            log(f"time limit {tc.minutes} min reached")
            break
    if val is not None and len(val):
        v = _val_loss(model, val, 4 * tc.batch_size, device)
        hist["val"].append((step, v))
        if v < best:
            best, best_state = v, None
        if best_state is not None:
            model.load_state_dict(best_state)
        hist["best_val"] = best
    hist["steps"], hist["seconds"] = step, time.time() - t0
    model.eval()
    return hist


def arrays_to_generation(model, data: PairArrays, n_samples: int, seed: int, temperature: float | None,
                         encoder_mask: np.ndarray | None = None, batch_size: int = 32):
    """Generate spectra from the light curves of ``data`` at their phases (tensor path, no phase checks)."""
    from .generation import GeneratedSpectrum, _draw, _tau

    data._grid = _grid_of(model.config)
    N, S, W = len(data), n_samples, model.config.spectrum_preprocess.n_bins
    samples = np.zeros((N, S, W), dtype=np.float32)
    mean = np.zeros((N, W), dtype=np.float32)
    tau = _tau(model, temperature)
    model.eval()
    with torch.inference_mode():
        for s in range(0, N, batch_size):
            idx = np.arange(s, min(N, s + batch_size))
            lc, _, ph = data.batch(idx, model.device)
            m = None if encoder_mask is None else torch.as_tensor(encoder_mask[idx, :lc.mask.shape[1]],
                                                                   device=model.device)
            loc, scale = model.posterior_lightcurve(lc, m)
            pt = ph.repeat_interleave(S)
            samples[idx], mean[idx] = _draw(model, loc, scale, idx, seed, S, W,
                                            lambda z, p=pt: model.decode_spectrum(z, p), tau)
    return GeneratedSpectrum(model.wavelength.cpu().numpy().astype(np.float64), mean, samples, data.phase.copy())


def fit_calibration(model, val: PairArrays, tc: TrainConfig) -> float:
    """Fit and set ``model.calibration_temperature`` on ``val`` (never the test data); returns it."""
    from .generation import calibrate_temperature

    gen = arrays_to_generation(model, val, tc.calibration_samples, tc.seed, 1.0)
    target = np.where(val.spec_mask, val.spec_flux, np.nan)
    tau = calibrate_temperature(gen, target, val.spec_mask, tc.calibration_level)
    model.calibration_temperature.fill_(tau)
    return tau


def split_by_object(object_ids, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train positions, validation positions): a ``fraction`` of the distinct objects goes to validation."""
    ids = np.asarray(object_ids, dtype=object)
    uniq = np.array(sorted(set(ids.tolist())), dtype=object)
    rng = np.random.default_rng(seed)
    n_val = int(round(fraction * len(uniq)))
    val_ids = set(rng.permutation(uniq)[:n_val].tolist())
    is_val = np.array([i in val_ids for i in ids.tolist()], dtype=bool)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def usable_pairs(data: PairArrays, config) -> np.ndarray:
    """Pairs the model may be trained / scored on: phase inside ``config.phase_range`` and some light-curve
    point within ``config.max_phase_gap`` days of it (the checks ``generate_spectrum`` enforces)."""
    lo, hi = config.phase_range
    gap = np.where(data.lc_mask, np.abs(data.lc_time - data.phase[:, None]), np.inf).min(1)
    return (data.phase >= lo) & (data.phase <= hi) & (gap <= config.max_phase_gap)
