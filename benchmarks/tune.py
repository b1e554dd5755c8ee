"""Issue 6's measurement: a tuned augmentation policy vs the paper's default on CIFAR-10.

    python benchmarks/tune.py                      # search, proxy score of the default, full-budget re-runs
    python benchmarks/report.py                    # adds the tables and plots to docs/results.md

1. `aip_keras.tuning.search` (random search, `--trials` trials) on the CIFAR-10
   teacher and student of Table 1 (zoo/cifar10-teacher-small_cnn -> small_cnn),
   distilling from `--source`, each trial on the proxy budget (`--trial_epochs`
   x `--trial_patches`), scored on 10% of CIFAR-10's *training* split (2,000
   images): the test split is never used to choose.
2. The default policy (the paper's chain, CutMix 0.25, tau 8, AdamW 2e-3) is
   scored on the same proxy, outside the search.
3. Full budget (`--budget_minutes` machine-minutes, the harness of
   `reproduce.py`, scored on the 10,000 test images): the best `--top` trials'
   policies at seed 0, the best one also at seed 1. The default policy's full
   runs are Table 1's `baseline` rows for the same source and budget.
4. Spearman's rank correlation between proxy and full-budget scores over those
   policies (default included).

Writes `benchmarks/results/tune-cifar10-<source>.json` (kind `tune`) and one
`cifar10-<budget>min-tuned<rank>-<source>-seed<N>.json` (kind `distill`) per
re-run. Reruns skip what exists.
"""

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from benchmarks import harness  # noqa: E402


def overrides_of(config):
    """The DistillConfig fields a policy sets (what the harness' RunSpec overrides)."""
    values = config.to_dict()
    return {key: values[key] for key in ("chain", "augment_overrides", "temperature", "learning_rate")}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="astronaut")
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--trial_epochs", type=int, default=2)
    parser.add_argument("--trial_patches", type=int, default=4096)
    parser.add_argument("--budget_minutes", type=float, default=3.0)
    parser.add_argument("--top", type=int, default=4, help="best trials re-run at the full budget")
    args = parser.parse_args()

    import keras_tuner

    from aip_keras import tuning

    task = harness.TASKS["cifar10"]
    base = harness.RunSpec("cifar10", "baseline", args.source, 0).config()
    out = harness.RESULTS_DIR / f"tune-cifar10-{args.source}.json"
    search_dir = harness.RUNS_DIR / f"tune-cifar10-{args.source}"
    if out.exists():
        summary = json.loads(out.read_text())
    else:
        start = time.process_time()
        result = tuning.search(base, search_dir, max_trials=args.trials, trial_epochs=args.trial_epochs,
                               trial_patches_per_epoch=args.trial_patches, val_limit=2000, verbose=1)
        hypermodel = tuning.AugmentationHyperModel(base, trial_epochs=args.trial_epochs,
                                                   trial_patches_per_epoch=args.trial_patches, val_limit=2000)
        hp = keras_tuner.HyperParameters()
        model = hypermodel.build(hp)
        default_score = hypermodel.fit(hp, model, verbose=2)[tuning.OBJECTIVE]
        summary = {
            "task": "cifar10", "modality": "image", "kind": "tune", "teacher": task["teacher"],
            "student_arch": task["student_arch"], "source": args.source, "seed": 0,
            "algorithm": result["algorithm"], "objective": result["objective"],
            "proxy_budget": result["proxy_budget"], "num_trials": result["num_trials"],
            "num_completed": result["num_completed"], "best_trial": result["best_trial"],
            "best_score": result["best_score"], "best_hyperparameters": result["best_hyperparameters"],
            "default_hyperparameters": result["default_hyperparameters"], "default_proxy_score": default_score,
            "trials": result["trials"], "search_cpu_seconds": time.process_time() - start,
            "search_wall_seconds": result["search_seconds"], "machine": harness.machine(),
            "command": "python benchmarks/tune.py " + " ".join(sys.argv[1:]),
            "git_commit": result["environment"]["git_commit"], "full_budget": {},
        }
        harness.atomic.write_json(out, summary)

    # Full-budget re-runs of the best trials' policies.
    hypermodel = tuning.AugmentationHyperModel(base)
    ranked = sorted((t for t in summary["trials"] if t["status"] == "COMPLETED"),
                    key=lambda t: -t[tuning.OBJECTIVE])[:args.top]
    for rank, trial in enumerate(ranked, 1):
        hp = keras_tuner.HyperParameters()
        hypermodel.config_for(hp)
        hp.values.update({k: v for k, v in trial.items() if k in hp.values})
        policy = overrides_of(hypermodel.config_for(hp, full=True))
        for seed in ((0, 1) if rank == 1 else (0,)):
            spec = harness.RunSpec("cifar10", f"tuned{rank}", args.source, seed, suite="tune", overrides=policy)
            print(f"\n[full budget] {spec.run_id(args.budget_minutes)} (trial {trial['trial_id']}, proxy "
                  f"{trial[tuning.OBJECTIVE]:.4f})", flush=True)
            row, _ = harness.run(spec, args.budget_minutes, verbose=2,
                                 command=f"python benchmarks/tune.py --source={args.source} "
                                         f"--budget_minutes={args.budget_minutes:g}")
            summary["full_budget"][spec.run_id(args.budget_minutes)] = {
                "trial_id": trial["trial_id"], "rank": rank, "seed": seed,
                "proxy_score": trial[tuning.OBJECTIVE], "test_accuracy": row["student_accuracy"]}
            harness.atomic.write_json(out, summary)
    print(json.dumps(summary["full_budget"], indent=1))


if __name__ == "__main__":
    main()
