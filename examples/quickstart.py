"""Quick start: embed real light curves and spectra with the bundled model, search across modalities,
estimate redshifts and classify with scikit-learn.

Run: python examples/quickstart.py
"""

import numpy as np
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

import astroembed as ae
from astroembed.demo import load_sample_data

model = ae.load_pretrained("maven")
data = load_sample_data()            # 300 ZTF BTS light curves + 24 OSC light curve/spectrum pairs
bts = data["bts"]

# 1. embeddings: (N, D) float32, unit norm
E = model.embed_lightcurve(bts)
print("light-curve embeddings:", E.shape, E.dtype, np.linalg.norm(E, axis=1)[:3])

# 2. light curve -> spectrum search
S = model.embed_spectrum(data["osc_spectra"])
index = ae.EmbeddingIndex(S, ids=[s.object_id for s in data["osc_spectra"]])
q = data["osc_lightcurves"][0]
res = ae.cross_modal_search(q, index, model=model, k=3)
print(f"spectra closest to the light curve of {q.object_id} ({q.label}):", list(res.ids[0]))

# 3. zero-shot redshifts: half the sample as reference, half as queries
z = np.array([lc.redshift for lc in bts])
z_hat, z_err = ae.zero_shot_redshift(E[150:], E[:150], z[:150], k=100)
print("median |dz|/(1+z):", np.median(np.abs(z_hat - z[150:]) / (1 + z[150:])))

# 4. scikit-learn pipeline on containers
y = np.array([lc.label for lc in bts])
pipe = make_pipeline(ae.LightCurveEmbedder(model), KNeighborsClassifier(n_neighbors=15))
print("5-fold kNN accuracy:", cross_val_score(pipe, bts, y, cv=5).mean())
