"""Reproduce the paper's claims at CPU scale (issue 3): Table 1 and the CIFAR-10 ablations.

    python benchmarks/reproduce.py --suite=table1_cifar10 --budget_minutes=10 --seeds=0,1
    python benchmarks/reproduce.py --suite=table1_fashion_mnist --budget_minutes=5 --seeds=0,1
    python benchmarks/reproduce.py --suite=ablations --budget_minutes=10 --ablation_source=astronaut
    python benchmarks/reproduce.py --suite=all --dry_run          # list the runs, their files, the plan
    python benchmarks/report.py                                    # docs/results.md + docs/figures/

Each run writes `benchmarks/results/<task>-<budget>min-<variant>-<source>-seed<N>.json`
(the results format of shared/design.md); runs whose JSON exists are skipped,
so an interrupted suite resumes by rerunning the same command. Budget, clock
and schedule planning: see `benchmarks/harness.py` (default: machine-minutes
of process CPU time, a probe per speed class sets the cosine length). Needs
the teachers in zoo/ (CIFAR-10: `aip train-teacher --data=cifar10
--arch=small_cnn --epochs=8 --output=zoo/cifar10-teacher-small_cnn`).
"""

import fnmatch
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from benchmarks import harness  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_enum("suite", "all", [*harness.SUITES, "all"], "which runs")
flags.DEFINE_float("budget_minutes", 10.0, "training budget per run, in machine-minutes (see --clock)")
flags.DEFINE_list("seeds", ["0", "1"], "seeds of the Table 1 rows")
flags.DEFINE_list("ablation_seeds", ["0"], "seeds of the ablation rows")
flags.DEFINE_string("ablation_source", "astronaut", "the photo the CIFAR-10 ablations distil from")
flags.DEFINE_enum("clock", "cpu", ["cpu", "wall"], "cpu: process CPU time / cores (robust to a shared "
                  "machine); wall: wall-clock minutes")
flags.DEFINE_float("wall_cap_factor", 3.0, "with --clock=cpu, stop a run after this x the budget in wall time")
flags.DEFINE_float("probe_seconds", 20.0, "length of the rate probe that plans each speed class's schedule")
flags.DEFINE_list("only", [], "run only these run ids (shell patterns allowed), e.g. cifar10-*-noise-*")
flags.DEFINE_boolean("dry_run", False, "print the plan and exit")
flags.DEFINE_integer("verbose", 2, "Keras fit verbosity (2: one line per epoch)")


def main(argv):
    del argv
    budget = FLAGS.budget_minutes
    seeds = [int(s) for s in FLAGS.seeds]
    specs = harness.suite_specs(FLAGS.suite, seeds, FLAGS.ablation_source,
                                [int(s) for s in FLAGS.ablation_seeds])
    if FLAGS.only:
        specs = [s for s in specs if any(fnmatch.fnmatch(s.run_id(budget), p) for p in FLAGS.only)]
    todo = [s for s in specs if not harness.result_path(s, budget).exists()]
    print(f"machine: {harness.machine()}")
    print(f"budget: {budget:g} machine-minutes per run ({FLAGS.clock} clock"
          + (f", wall cap {FLAGS.wall_cap_factor:g}x" if FLAGS.clock == "cpu" else "") + ")")
    print(f"seeds: table 1 {seeds}, ablations {FLAGS.ablation_seeds} (source {FLAGS.ablation_source})")
    print(f"suite {FLAGS.suite}: {len(specs)} runs, {len(specs) - len(todo)} done, {len(todo)} to run "
          f"(~{len(todo) * (budget + 1.5):.0f} machine-minutes with evaluation and probes)")
    for task in sorted({s.task for s in specs}):
        row = harness.teacher_row(task, write=not FLAGS.dry_run)
        print(f"teacher {harness.TASKS[task]['teacher']}: "
              + (f"{row['test_accuracy']:.4f} test accuracy" if row else "NOT TRAINED YET"))
    for spec in specs:
        status = "done" if spec not in todo else "todo"
        print(f"  [{status}] {harness.result_path(spec, budget).relative_to(harness.REPO)}")
    if FLAGS.dry_run or not todo:
        return
    missing = [t for t in sorted({s.task for s in todo}) if harness.teacher_row(t) is None]
    if missing:
        raise SystemExit(f"no trained teacher for {missing}: train it first (see the module docstring).")
    for i, spec in enumerate(todo, 1):
        start = time.time()
        print(f"\n[{i}/{len(todo)}] {spec.run_id(budget)}", flush=True)
        row, _ = harness.run(
            spec, budget, clock=FLAGS.clock, probe_seconds=FLAGS.probe_seconds,
            wall_cap_factor=FLAGS.wall_cap_factor, verbose=FLAGS.verbose,
            command=harness.command_for(spec, budget, FLAGS.clock, FLAGS.ablation_source),
        )
        print(f"  student {row['student_accuracy']:.4f} (teacher {row['teacher_accuracy']:.4f}, agreement "
              f"{row['agreement']:.4f}), {row['samples_seen']:,} samples, stopped by {row['stopped_by']}, "
              f"{(time.time() - start) / 60:.1f} wall min", flush=True)


if __name__ == "__main__":
    app.run(main)
