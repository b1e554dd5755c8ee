#!/bin/bash
# Session 2's reproduction queue (2-core CPU box, ~2.5 h of machine time in all): CIFAR-10 Table 1
# (real-train, hubble_deep_field, astronaut, china, noise; seeds 0, 1) and the ablations at 3
# machine-minutes per run, Fashion-MNIST Table 1 at 2. `coffee` and the bf16 ablation were left out
# for time (bf16 runs 8x slower on this AVX2 CPU: benchmarks/results/throughput-*bf16*.json).
# Logs in logs/reproduce-*.log.
set -e
cd "$(dirname "$0")/.."
B=benchmarks/reproduce.py
python $B --suite=table1_cifar10 --budget_minutes=3 --seeds=0,1 --only='*real-train*,*hubble*,*astronaut*,*china*,*noise*' >> logs/reproduce-table1_cifar10-3min.log 2>&1
python $B --suite=ablations --budget_minutes=3 --ablation_source=astronaut \
  --only='*plain_crops*,*no_cutmix*,*tau1-*,*tau4-*,*tau_squared*,*patch_bank*,*adam_constant*' > logs/reproduce-ablations-3min.log 2>&1
python $B --suite=table1_fashion_mnist --budget_minutes=2 --seeds=0,1 --only='*real-train*,*hubble*,*astronaut*,*china*,*noise*' > logs/reproduce-table1_fashion_mnist-2min.log 2>&1
