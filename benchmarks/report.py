"""Aggregates `benchmarks/results/*.json` into `docs/results.md` and PNGs in `docs/figures/`.

    python benchmarks/report.py            # after reproduce.py / throughput.py

Tables (never typed by hand): teachers, Table 1 per task and budget (mean,
sample standard deviation and range over seeds), the teacher's class histogram
per source, CIFAR-10 ablations, and throughput. Figures: validation accuracy vs
training machine-minutes per source (one line per seed), the class histograms,
ablation bars and curves, and a grid of 32 px patches per source image (what
the student sees). Text written in
`docs/results.md` below the line `<!-- notes: kept by report.py -->` survives
regeneration. Rows of other modalities (e.g. audio) are left to their own reports.
"""

import collections
import json
import math
import os
import pathlib
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.harness import ABLATION_LABELS, ABLATIONS, PHOTOS, SOURCES  # noqa: E402

RESULTS_DIR = REPO / "benchmarks" / "results"
DOC = REPO / "docs" / "results.md"
FIGURES = REPO / "docs" / "figures"
NOTES_MARKER = "<!-- notes: kept by report.py -->"
GRID_SOURCES = (*PHOTOS, "noise")


def load_rows(results_dir=RESULTS_DIR):
    rows = []
    for path in sorted(pathlib.Path(results_dir).glob("*.json")):
        try:
            row = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"{path} is not valid JSON ({error}): delete or fix it.")
        if isinstance(row, dict) and "kind" in row and row.get("modality", "image") == "image":
            row["_file"] = path.name
            rows.append(row)
    return rows


def _stats(values):
    values = [float(v) for v in values]
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else None
    return mean, sd, min(values), max(values)


def _pct(value):
    return f"{100 * value:.1f}"


def _mean_sd(values):
    mean, sd, lo, hi = _stats(values)
    text = _pct(mean) + (f" ± {_pct(sd)}" if sd is not None else "")
    spread = f"{_pct(lo)}–{_pct(hi)}" if len(values) > 1 else "–"
    return text, spread


def _source_order(source):
    return (SOURCES.index(source), source) if source in SOURCES else (len(SOURCES), source)


def _group(rows, *keys):
    groups = collections.defaultdict(list)
    for row in rows:
        groups[tuple(row.get(k) for k in keys)].append(row)
    return groups


def _budget(value):
    return f"{float(value):g}"


# --------------------------------------------------------------------------- tables


def teacher_table(rows):
    teachers = [r for r in rows if r["kind"] == "teacher"]
    if not teachers:
        return []
    lines = ["## Teachers", "",
             "Trained on the real training set with `aip train-teacher`; test accuracy on the full test set.", "",
             "| task | teacher | arch | test top-1 | training wall min | command |",
             "|---|---|---|---|---|---|"]
    for r in sorted(teachers, key=lambda r: r["task"]):
        wall = f"{r['wall_seconds'] / 60:.1f}" if r.get("wall_seconds") else "–"
        lines.append(f"| {r['task']} | `{r['teacher']}` | {r.get('arch', '')} | {_pct(r['test_accuracy'])}% | "
                     f"{wall} | `{r.get('command', '')}` |")
    return lines + [""]


def _setup_line(runs):
    r = runs[0]
    clock = r.get("budget_clock", "cpu")
    unit = "machine-minutes of process CPU time (CPU seconds / cores)" if clock == "cpu" else "wall minutes"
    samples = statistics.fmean(x["samples_seen"] for x in runs)
    config = r.get("config", {})
    return (f"Teacher `{r['teacher']}` ({_pct(r['teacher_accuracy'])}% test), student `{r['student_arch']}`, "
            f"budget {_budget(r['budget_cpu_minutes'])} {unit} per run (≈{samples:,.0f} training samples on "
            f"average), batch {config.get('batch_size', '?')}, tau {config.get('temperature', '?'):g}, "
            f"{config.get('optimizer', '?')} {config.get('learning_rate', '?'):g} + {config.get('schedule', '?')}, "
            f"'{config.get('augment', '?')}' policy; test accuracy on {r.get('num_test_examples') or 'all'} "
            f"test images. Machine: {r.get('machine', '?')}.")


def table1(rows):
    lines = []
    runs = [r for r in rows if r["kind"] == "distill" and r.get("variant", "baseline") == "baseline"]
    for (task, budget), group in sorted(_group(runs, "task", "budget_cpu_minutes").items(),
                                        key=lambda kv: (kv[0][0], float(kv[0][1]))):
        lines += [f"## Table 1: {task}, {_budget(budget)} machine-minutes per run", "", _setup_line(group), "",
                  "| source | student top-1 % (mean ± sd) | range | seeds | agreement % | of teacher | "
                  "samples seen | stopped by |",
                  "|---|---|---|---|---|---|---|---|"]
        for source, rs in sorted(_group(group, "source").items(), key=lambda kv: _source_order(kv[0][0])):
            acc, spread = _mean_sd([r["student_accuracy"] for r in rs])
            agree, _ = _mean_sd([r["agreement"] for r in rs])
            ratio = statistics.fmean(r["student_accuracy"] / r["teacher_accuracy"] for r in rs)
            samples = statistics.fmean(r["samples_seen"] for r in rs)
            stops = ", ".join(f"{k} {v}" for k, v in collections.Counter(r.get("stopped_by", "?") for r in rs).items())
            name = f"{source[0]} (upper bound)" if source[0] == "real-train" else source[0]
            lines.append(f"| {name} | {acc} | {spread} | {len(rs)} | {agree} | {ratio:.2f} | {samples:,.0f} | {stops} |")
        lines += ["", f"![accuracy vs machine-minutes](figures/{_curve_name(task, budget)})", ""]
    return lines


def ablation_table(rows):
    lines = []
    runs = [r for r in rows if r["kind"] == "distill"]
    ablation_runs = [r for r in runs if r.get("suite") == "ablations"]
    for (task, budget, source), group in sorted(_group(ablation_runs, "task", "budget_cpu_minutes", "source").items()):
        seeds = {r["seed"] for r in group}
        baseline = [r for r in runs if r["task"] == task and r["budget_cpu_minutes"] == budget
                    and r["source"] == source and r.get("variant") == "baseline" and r["seed"] in seeds]
        group = [r for r in group if r.get("variant") != "baseline"] + baseline
        base_acc = statistics.fmean(r["student_accuracy"] for r in baseline) if baseline else None
        lines += [f"## Ablations: {task} from `{source}`, {_budget(budget)} machine-minutes per run", "",
                  "Baseline settings (each variant changes one thing): " + _setup_line(baseline or group), "",
                  "| variant | what changes | student top-1 % | seeds | Δ vs baseline (points) | agreement % | "
                  "samples seen | setup wall s |",
                  "|---|---|---|---|---|---|---|---|"]
        order = list(ABLATIONS)
        for (variant,), rs in sorted(_group(group, "variant").items(),
                                     key=lambda kv: order.index(kv[0][0]) if kv[0][0] in order else 99):
            acc, _ = _mean_sd([r["student_accuracy"] for r in rs])
            agree, _ = _mean_sd([r["agreement"] for r in rs])
            mean = statistics.fmean(r["student_accuracy"] for r in rs)
            delta = f"{100 * (mean - base_acc):+.1f}" if base_acc is not None and variant != "baseline" else "–"
            samples = statistics.fmean(r["samples_seen"] for r in rs)
            setup = statistics.fmean(r["wall_seconds"] - r["train_seconds"] for r in rs)
            lines.append(f"| {variant} | {ABLATION_LABELS.get(variant, '')} | {acc} | {len(rs)} | {delta} | "
                         f"{agree} | {samples:,.0f} | {setup:.0f} |")
        stem = _ablation_stem(task, budget, source)
        lines += ["", "Setup wall s: loading, building the patch bank (if any) and the final test evaluation, "
                  "outside the training budget.", "",
                  f"![ablation bars](figures/{stem}-bars.png)", "",
                  f"![ablation curves](figures/{stem}-curves.png)", ""]
    return lines


def _rank_agreement(x, y):
    """Spearman's rho of x and y, and the sentence that reports it with its exact one-sided permutation p-value
    (all len(x)! pairings): with the 4-6 points these sections rank, scipy's asymptotic p-value is meaningless."""
    from scipy import stats

    test = stats.permutation_test((x,), lambda xs: stats.spearmanr(xs, y).statistic, permutation_type="pairings",
                                  alternative="greater")
    return test.statistic, (f"ρ = {test.statistic:.2f} (exact one-sided permutation p = {test.pvalue:.3f}: the chance "
                            f"of a rank agreement at least this good among all {math.factorial(len(x))} orderings)")


def _tuned_policies(tune, rows):
    """(name, proxy score, {seed: test accuracy}) for the default policy and each re-run tuned policy."""
    budget = None
    full = collections.defaultdict(dict)
    proxy = {}
    for run_id, info in tune.get("full_budget", {}).items():
        row = next((r for r in rows if r.get("run_id") == run_id), None)
        if row is None:
            continue
        budget = row["budget_cpu_minutes"]
        name = f"tuned{info['rank']} (trial {info['trial_id']})"
        proxy[name] = info["proxy_score"]
        full[name][info["seed"]] = row["student_accuracy"]
    policies = []
    if budget is not None:
        default = {r["seed"]: r["student_accuracy"] for r in rows if r["kind"] == "distill"
                   and r.get("variant") == "baseline" and r["task"] == tune["task"] and r["source"] == tune["source"]
                   and r["budget_cpu_minutes"] == budget}
        policies.append(("default (paper policy)", tune.get("default_proxy_score"), default))
    policies += [(name, proxy[name], full[name]) for name in sorted(full)]
    return budget, policies


def tuning_section(rows, figures):
    """The KerasTuner search (kind `tune`) and its full-budget re-runs; returns (lines, files written)."""
    from aip_keras import tuning

    lines, written = [], []
    for tune in (r for r in rows if r["kind"] == "tune"):
        stem = f"tune-{tune['task']}-{tune['source']}"
        budget = tune["proxy_budget"]
        lines += [f"## Augmentation search: {tune['task']} from `{tune['source']}` (KerasTuner)", "",
                  f"`{tune['command']}`: {tune['algorithm']} search, {tune['num_completed']} of {tune['num_trials']} "
                  f"trials completed, each distilling `{tune['student_arch']}` from `{tune['teacher']}` for "
                  f"{budget['epochs']} x {budget['patches_per_epoch']:,} patches (batch {budget['batch_size']}); "
                  f"objective: {tune['objective']}. Search: {tune['search_cpu_seconds'] / 120:.1f} machine-minutes "
                  f"(CPU seconds / 2 cores). Machine: {tune['machine']}.", ""]
        names = [k for k in tune["trials"][0] if k not in ("trial_id", "status", "val_accuracy", "val_agreement")]
        lines += ["| trial | status | proxy val top-1 % | " + " | ".join(names) + " |",
                  "|---|---|---|" + "---|" * len(names)]
        for t in sorted(tune["trials"], key=lambda t: -(t["val_accuracy"] or -1)):
            score = _pct(t["val_accuracy"]) if t["val_accuracy"] is not None else "–"
            values = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in (t.get(n) for n in names)]
            lines.append(f"| {t['trial_id']} | {t['status']} | {score} | " + " | ".join(values) + " |")
        lines += ["", f"Default policy on the same proxy: {_pct(tune['default_proxy_score'])}% "
                  f"({', '.join(f'{k}={v}' for k, v in tune['default_hyperparameters'].items())}).", ""]
        for name, plot in (("trials", tuning.plot_trials), ("effects", tuning.plot_effects)):
            path = pathlib.Path(figures) / f"{stem}-{name}.png"
            plot(tune["trials"], path)
            written.append(path)
            lines += [f"![{name}](figures/{path.name})", ""]
        full_budget, policies = _tuned_policies(tune, rows)
        if not policies:
            continue
        lines += [f"### Tuned vs default at the full budget ({_budget(full_budget)} machine-minutes, test split)", "",
                  "| policy | proxy val top-1 % | test top-1 % seed 0 | seed 1 | mean |", "|---|---|---|---|---|"]
        for name, proxy, full in policies:
            cells = [_pct(full[s]) if s in full else "–" for s in (0, 1)]
            mean = _pct(statistics.fmean(full.values())) if full else "–"
            lines.append(f"| {name} | {_pct(proxy) if proxy is not None else '–'} | {cells[0]} | {cells[1]} | {mean} |")
        paired = [(proxy, full[0]) for _, proxy, full in policies if proxy is not None and 0 in full]
        if len(paired) >= 3:
            rho, agreement = _rank_agreement(*zip(*paired))
            lines += ["", f"Spearman rank correlation between proxy and full-budget (seed 0) scores over "
                      f"{len(paired)} policies: {agreement}.", ""]
            plt = _plt()
            fig, ax = plt.subplots(figsize=(4.6, 3.6))
            for (name, proxy, full) in policies:
                if proxy is not None and 0 in full:
                    ax.plot(100 * proxy, 100 * full[0], "o", color="tab:grey" if name.startswith("default") else
                            "tab:blue")
                    ax.annotate(name.split(" ")[0], (100 * proxy, 100 * full[0]), fontsize=7)
            ax.set(xlabel="proxy validation top-1 %", ylabel="full-budget test top-1 % (seed 0)",
                   title=f"proxy vs full budget (ρ = {rho:.2f})")
            ax.grid(alpha=0.3)
            path = pathlib.Path(figures) / f"{stem}-proxy-vs-full.png"
            _save(fig, path)
            plt.close(fig)
            written.append(path)
            lines += [f"![proxy vs full](figures/{path.name})", ""]
    return lines, written


def teacher_view_section(rows, figures):
    """Per task: the teacher's class histogram on each source's training inputs (benchmarks/teacher_view.py),
    beside the Table 1 students; returns (lines, files written)."""
    lines, written = [], []
    for view in sorted((r for r in rows if r["kind"] == "teacher_view"), key=lambda r: r["task"]):
        task, names = view["task"], view["class_names"]
        students = [r for r in rows if r["kind"] == "distill" and r["task"] == task and r.get("variant") == "baseline"]
        budget = min((float(r["budget_cpu_minutes"]) for r in students), default=None)
        accuracy = {s[0]: statistics.fmean(r["student_accuracy"] for r in rs) for s, rs in
                    _group([r for r in students if float(r["budget_cpu_minutes"]) == budget], "source").items()}
        sources = sorted(view["sources"], key=_source_order)
        lines += [f"## What the teacher names: {task}", "",
                  f"`{view['command']}`: the frozen teacher `{view['teacher']}` on {view['samples_per_source']:,} "
                  f"training inputs per source, drawn as a seed-0 run draws them ({view['policy']}). Coverage: the "
                  "entropy of the histogram of its top-1 classes over log(classes), 1 when it names every class "
                  "equally often; a student cannot learn classes its teacher never names. Confidence: the mean "
                  "top-1 softmax probability.", "",
                  f"| source | coverage | confidence | most named class (share) | classes named by ≥ 1% | "
                  f"student top-1 % (Table 1, {_budget(budget) if budget else '–'} min) |",
                  "|---|---|---|---|---|---|"]
        for source in sources:
            v = view["sources"][source]
            top = max(range(len(names)), key=lambda k: v["classes"][k])
            named = sum(share >= 0.01 for share in v["classes"])
            student = _pct(accuracy[source]) if source in accuracy else "–"
            lines.append(f"| {source} | {v['coverage']:.2f} | {v['confidence']:.2f} | {names[top]} "
                         f"({_pct(v['classes'][top])}%) | {named} of {len(names)} | {student} |")
        paired = [(view["sources"][s]["coverage"], accuracy[s]) for s in sources if s in accuracy and s != "real-train"]
        if len(paired) >= 3:
            _, agreement = _rank_agreement(*zip(*paired))
            lines += ["", f"Spearman rank correlation between coverage and student accuracy over the "
                      f"{len(paired)} single-datum sources: {agreement}."]
        plt = _plt()
        fig, ax = plt.subplots(figsize=(0.55 * len(names) + 2.2, 0.42 * len(sources) + 1.6))
        shares = [[100 * share for share in view["sources"][s]["classes"]] for s in sources]
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=100, aspect="auto")
        for i, row in enumerate(shares):
            for k, share in enumerate(row):
                ax.text(k, i, f"{share:.0f}", ha="center", va="center", fontsize=6,
                        color="white" if share > 50 else "black")
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(sources)), [f"{s} ({view['sources'][s]['coverage']:.2f})" for s in sources],
                      fontsize=7)
        ax.set_title(f"{task}: % of training inputs the teacher calls each class (coverage)", fontsize=8)
        fig.tight_layout()
        path = pathlib.Path(figures) / f"teacher-view-{task}.png"
        _save(fig, path)
        plt.close(fig)
        written.append(path)
        lines += ["", f"![teacher view](figures/{path.name})", ""]
    return lines, written


def throughput_table(rows):
    rows = sorted((r for r in rows if r["kind"] == "throughput"), key=lambda r: (r.get("measure", ""), r["name"]))
    if not rows:
        return []
    r0 = rows[0]
    lines = ["## Throughput", "",
             f"`{r0.get('command', 'python benchmarks/throughput.py')}` on {r0.get('machine', '?')}; source "
             f"`{r0.get('source', '?')}`. Training rows: teacher {next((r['teacher'] for r in rows if 'teacher' in r), '?')}, "
             f"student {next((r['student_arch'] for r in rows if 'student_arch' in r), '?')}, same batch and "
             "optimizer (AdamW + cosine); best wall rate and least CPU per sample of the interleaved repeats. `cached` = "
             "one batch held in memory (no input cost); keras' Distiller gets dummy labels. The machine is shared: "
             "wall rates swing with other users' load, so `ratio` compares CPU time per sample (the wall-clock "
             "ratio is beside it).", "",
             "| measurement | samples/s (wall) | CPU ms / sample | compared with | ratio (CPU) | ratio (wall) | "
             "load avg (1 min) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = f"{r['ratio']:.2f}" if r.get("ratio") is not None else "–"
        wall = f"{r['wall_ratio']:.2f}" if r.get("wall_ratio") is not None else "–"
        load = r.get("load_average") or [float("nan")]
        lines.append(f"| {r['name']} | {r['samples_per_second']:,.0f} | {1000 * r.get('cpu_seconds_per_sample', float('nan')):.2f} | "
                     f"{r.get('compared_with', '–')} | {ratio} | {wall} | {load[0]:.1f} |")
    bound = next((r for r in rows if r.get("input_bound_ratio") is not None), None)
    if bound is not None:
        wall = bound.get("input_bound_wall_ratio")
        lines += ["", f"Input-bound check: training on the streamed pipeline runs at {bound['input_bound_ratio']:.2f}x "
                  "the speed of training on a cached batch in CPU time per sample"
                  + (f" ({wall:.2f}x in wall time)" if wall is not None else "")
                  + " (1.00 = not input-bound; on 2 shared cores the input pipeline and the step compete for the "
                  "same cores)."]
    return lines + [""]


# --------------------------------------------------------------------------- figures


def _curve_name(task, budget):
    return f"{task}-{_budget(budget)}min-accuracy-vs-minutes.png"


def _ablation_stem(task, budget, source):
    return f"ablations-{task}-{_budget(budget)}min-{source}"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    from aip_keras.atomic import atomic_path

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)


def _curves(ax, groups, labels=None):
    plt = _plt()
    colours = plt.get_cmap("tab10")
    for i, (name, runs) in enumerate(groups):
        for j, r in enumerate(sorted(runs, key=lambda r: r["seed"])):
            curve = [p for p in r.get("curve", []) if "val_accuracy" in p]
            if not curve:
                continue
            ax.plot([p["minutes"] for p in curve], [100 * p["val_accuracy"] for p in curve],
                    marker="o", markersize=2.5, linewidth=1.2, color=colours(i % 10),
                    label=(labels or {}).get(name, name) if j == 0 else None, alpha=0.9 if j == 0 else 0.55)
    ax.set_xlabel("training minutes on the budget clock (default: process CPU time / cores)")
    ax.set_ylabel("validation top-1 % (test subset)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def curve_figures(rows, figures):
    plt = _plt()
    written = []
    runs = [r for r in rows if r["kind"] == "distill" and r.get("variant", "baseline") == "baseline"]
    for (task, budget), group in _group(runs, "task", "budget_cpu_minutes").items():
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        groups = sorted(((s[0], rs) for s, rs in _group(group, "source").items()), key=lambda kv: _source_order(kv[0]))
        _curves(ax, groups)
        teacher = group[0]["teacher_accuracy"]
        ax.axhline(100 * teacher, color="black", linestyle="--", linewidth=0.8, label="teacher")
        ax.set_title(f"{task}: student accuracy vs budget, by source ({_budget(budget)} min runs)", fontsize=9)
        ax.legend(fontsize=7)
        path = pathlib.Path(figures) / _curve_name(task, budget)
        _save(fig, path)
        plt.close(fig)
        written.append(path)
    return written


def ablation_figures(rows, figures):
    plt = _plt()
    written = []
    runs = [r for r in rows if r["kind"] == "distill"]
    for (task, budget, source), group in _group([r for r in runs if r.get("suite") == "ablations"],
                                                "task", "budget_cpu_minutes", "source").items():
        seeds = {r["seed"] for r in group}
        group = [r for r in group if r.get("variant") != "baseline"] + [
            r for r in runs if r["task"] == task and r["budget_cpu_minutes"] == budget and r["source"] == source
            and r.get("variant") == "baseline" and r["seed"] in seeds]
        order = list(ABLATIONS)
        variants = sorted(_group(group, "variant").items(), key=lambda kv: order.index(kv[0][0]) if kv[0][0] in order else 99)
        stem = _ablation_stem(task, budget, source)
        fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(variants) + 1.2))
        names = [v[0] for v, _ in variants]
        means = [100 * statistics.fmean(r["student_accuracy"] for r in rs) for _, rs in variants]
        errs = [100 * (statistics.stdev([r["student_accuracy"] for r in rs]) if len(rs) > 1 else 0.0)
                for _, rs in variants]
        y = list(range(len(names)))[::-1]
        ax.barh(y, means, xerr=errs, color=["tab:grey" if n == "baseline" else "tab:blue" for n in names])
        ax.set_yticks(y, names, fontsize=8)
        for yi, m in zip(y, means):
            ax.text(m, yi, f" {m:.1f}", va="center", fontsize=7)
        ax.set_xlabel("student test top-1 %")
        ax.set_title(f"{task} ablations from {source} ({_budget(budget)} machine-min each)", fontsize=9)
        fig.tight_layout()
        _save(fig, pathlib.Path(figures) / f"{stem}-bars.png")
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        _curves(ax, [(v[0], rs) for v, rs in variants])
        ax.set_title(f"{task} ablations from {source}: accuracy vs machine-minutes", fontsize=9)
        _save(fig, pathlib.Path(figures) / f"{stem}-curves.png")
        plt.close(fig)
        written += [pathlib.Path(figures) / f"{stem}-bars.png", pathlib.Path(figures) / f"{stem}-curves.png"]
    return written


def patch_grids(figures, sources=GRID_SOURCES, num=64, patch_size=32):
    """One PNG grid of `num` patches per source image (the stream with seed 0)."""
    from aip_keras.plots import save_image_grid
    from aip_keras.sources import SingleImageSource

    written = []
    for source in sources:
        batch = next(iter(SingleImageSource(source, patch_size=patch_size).dataset(num, seed=0))).numpy()
        path = pathlib.Path(figures) / f"patches-{source}.png"
        save_image_grid(batch, path, title=f"{num} patches of {source} (S={patch_size}, 2020 chain)")
        written.append(path)
    return written


# --------------------------------------------------------------------------- the document


def build(results_dir=RESULTS_DIR, doc=DOC, figures=FIGURES, grid_sources=GRID_SOURCES, grid_patches=64):
    """Writes the markdown and every figure; returns the list of files written."""
    rows = load_rows(results_dir)
    figures = pathlib.Path(figures)
    written = curve_figures(rows, figures) + ablation_figures(rows, figures)
    if grid_sources:
        written += patch_grids(figures, grid_sources, grid_patches)
    lines = ["# Results: reproducing the Augmented Image Prior at CPU scale", "",
             "Generated by `python benchmarks/report.py` from `benchmarks/results/*.json` (one file per run, "
             "each with the exact command that reruns it); do not edit the tables by hand. Runs: "
             "`python benchmarks/reproduce.py --suite=table1_cifar10|table1_fashion_mnist|ablations|all` and "
             "`python benchmarks/throughput.py`; the teacher's view of each source: "
             "`python benchmarks/teacher_view.py`; the augmentation search: `python benchmarks/tune.py`.", ""]
    tune_lines, tune_files = tuning_section(rows, figures)
    view_lines, view_files = teacher_view_section(rows, figures)
    written += tune_files + view_files
    lines += (teacher_table(rows) + table1(rows) + view_lines + ablation_table(rows) + tune_lines
              + throughput_table(rows))
    if grid_sources:
        lines += ["## Source images as the student sees them", "",
                  "64 patches of each source at 32 px (the 2020 chain, stream seed 0):", ""]
        lines += [f"![{s}](figures/patches-{s}.png)" for s in grid_sources] + [""]
    if not rows:
        lines += ["No results yet: run the commands above.", ""]
    doc = pathlib.Path(doc)
    notes = ""
    if doc.exists() and NOTES_MARKER in doc.read_text():
        notes = doc.read_text().split(NOTES_MARKER, 1)[1]
    text = "\n".join(lines).rstrip() + "\n\n" + NOTES_MARKER + (notes if notes else "\n")
    from aip_keras.atomic import atomic_path

    doc.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(doc) as tmp:
        pathlib.Path(tmp).write_text(text)
    return [doc, *written]


def main():
    for path in build():
        print(f"wrote {pathlib.Path(path).relative_to(REPO) if REPO in pathlib.Path(path).parents else path}")


if __name__ == "__main__":
    main()
