"""SimFM Limited scenario (128 labelled BTS objects, 5 draws x 5 folds): the fixed C = 1 logistic probe of
``benchmarks/eval_simfm.py`` vs C chosen by an inner 3-fold CV on the 128 labelled objects only (never on
the test fold), on the embeddings that ``benchmarks/eval_simfm.py`` cached.

    OMP_NUM_THREADS=1 PYTHONPATH=src python tools/simfm_limited_innercv.py \
        simfm=/work/data_sim/eval_simfm3/emb/simfm-gru-contrastive-v2data_bts.npy \
        maven-sim=/work/data_sim/eval_simfm/emb/maven-sim_bts.npy maven=/work/data_sim/eval_simfm/emb/maven_bts.npy \
        features=/work/data_sim/eval_simfm/emb/features_bts.npy
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)


def inner_cv_logistic():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    base = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, class_weight="balanced"))
    return GridSearchCV(base, {"logisticregression__C": list(C_GRID)}, scoring="roc_auc_ovr",
                        cv=StratifiedKFold(3, shuffle=True, random_state=0))


def main(argv=None) -> int:
    import eval_simfm as E

    warnings.filterwarnings("ignore")  # classes with < 3 members in an inner fold
    specs = [a.partition("=") for a in (argv if argv is not None else sys.argv[1:])]
    _, obj, fold, _ = E.load_bts()
    lab = obj["class_maven5"].to_numpy(dtype=object)
    has = np.array([c in E.CLASSES5 for c in lab])
    print("| embedding | Limited macro AUROC, C = 1 | Limited macro AUROC, C by inner CV |")
    print("|---|---|---|")
    for name, _, path in specs:
        X = np.load(path)
        res = {}
        for kind, make in (("fixed", E._logistic), ("inner", inner_cv_logistic)):
            vals = []
            for d in range(E.N_DRAWS):
                for k in range(E.N_FOLDS):
                    tr, te = np.flatnonzero(has & (fold != k)), np.flatnonzero(has & (fold == k))
                    sub = E._subsets(tr, "limited")[d]
                    clf = make().fit(X[sub], lab[sub])
                    vals.append(E.macro_auroc(lab[te], E._proba(clf, X[te], list(E.CLASSES5)), E.CLASSES5))
            res[kind] = float(np.mean(vals))
        print(f"| {name} | {res['fixed']:.3f} | {res['inner']:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
