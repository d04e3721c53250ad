#!/usr/bin/env bash
# Jetson Orin Nano (Tegra234, 6x A78AE). Expected: all six cores performance, INA3221 rails
# VDD_IN / VDD_CPU_GPU_CV / VDD_SOC, tj-thermal, Tegra device nodes, CUDA EP running.
source "$(dirname "$0")/lib.sh"
run_probe
f="$OUT/devices.json"
common_probe_checks
expect_jq "$f" '.board.platform == "Jetson"' "platform Jetson"
expect_jq "$f" '.board.model | test("Orin Nano")' "model Orin Nano"
expect_jq "$f" '.board.soc | test("Tegra234")' "SoC Tegra234"
expect_jq "$f" '.cpu.logical_cores == 6 and (.cpu.performance_core_ids | length) == 6' "6 performance cores"
expect_jq "$f" '[.power_sensors[] | select(.label == "VDD_IN" and .watts > 1 and .watts < 30)] | length == 1' "VDD_IN reads 1-30 W"
expect_jq "$f" '[.power_sensors[] | .label] | index("VDD_CPU_GPU_CV") != null' "VDD_CPU_GPU_CV rail"
expect_jq "$f" '[.thermal_zones[] | select(.type == "tj-thermal")] | length == 1' "tj-thermal zone"
expect_jq "$f" '[.device_nodes[] | select(.kind == "nvidia-tegra")] | length >= 1' "Tegra GPU nodes"
expect_jq "$f" '[.execution_providers[] | select(.name == "CUDAExecutionProvider" and .runs)] | length == 1' "CUDA EP runs (JetPack ORT build)"
wired_checks
generation_check
finish
