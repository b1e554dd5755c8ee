#!/bin/bash
# Every command behind the committed image results (docs/results.md), in the order they ran on the
# project's 2-core CPU box (no GPU, shared; about 5.5 h of machine time in all). Every result is a JSON
# in benchmarks/results/. Run again, reproduce.py skips the runs whose JSON exists; throughput.py,
# tune.py and teacher_view.py measure again. Logs go to logs/.
#
# Left out on purpose: `coffee` in Table 1 (time; three photos remain) and the bf16 ablation
# (8x slower on this AVX2 CPU: benchmarks/results/throughput-*bf16*.json).
# Audio and video have their own runners: benchmarks/audio/run.py, benchmarks/video/run.py.
set -e
cd "$(dirname "$0")/.."
mkdir -p logs
B=benchmarks/reproduce.py
SOURCES='*real-train*,*hubble*,*astronaut*,*china*,*noise*'
python benchmarks/throughput.py > logs/throughput.log 2>&1
python $B --suite=table1_cifar10 --budget_minutes=3 --seeds=0,1 --only="$SOURCES" >> logs/reproduce-table1_cifar10-3min.log 2>&1
python $B --suite=ablations --budget_minutes=3 --ablation_source=astronaut \
  --only='*plain_crops*,*no_cutmix*,*tau1-*,*tau4-*,*tau_squared*,*patch_bank*,*adam_constant*' >> logs/reproduce-ablations-3min.log 2>&1
python benchmarks/tune.py >> logs/tune-cifar10-astronaut.log 2>&1
python $B --suite=table1_fashion_mnist --budget_minutes=3 --seeds=0,1 --only="$SOURCES" >> logs/reproduce-table1_fashion_mnist-3min.log 2>&1
# Does a longer budget close the gap? Two seeds at 5x the budget (seed 0 in session 3, seed 1 in session 4).
python $B --suite=table1_cifar10 --budget_minutes=15 --seeds=0,1 --only='*real-train*,*china*,*noise*' >> logs/reproduce-table1_cifar10-15min.log 2>&1
# And at 15x the budget, the best photo only (session 4).
python $B --suite=table1_cifar10 --budget_minutes=45 --seeds=0 --only='*china*' >> logs/reproduce-table1_cifar10-45min.log 2>&1
python benchmarks/teacher_view.py > logs/teacher-view.log 2>&1
python benchmarks/report.py
