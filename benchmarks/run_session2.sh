#!/bin/bash
# Session 2's reproduction queue (2-core CPU box): CIFAR-10 Table 1 and ablations at 3
# machine-minutes per run, Fashion-MNIST Table 1 at 2. Logs in logs/reproduce-*.log.
set -e
cd "$(dirname "$0")/.."
python benchmarks/reproduce.py --suite=table1_cifar10 --budget_minutes=3 --seeds=0,1 > logs/reproduce-table1_cifar10-3min.log 2>&1
python benchmarks/reproduce.py --suite=ablations --budget_minutes=3 --ablation_source=astronaut > logs/reproduce-ablations-3min.log 2>&1
python benchmarks/reproduce.py --suite=table1_fashion_mnist --budget_minutes=2 --seeds=0,1 > logs/reproduce-table1_fashion_mnist-2min.log 2>&1
