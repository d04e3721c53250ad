#!/usr/bin/env bash
# Raspberry Pi 5 (BCM2712, 4x Cortex-A76). Expected: one cluster of 4 performance cores,
# neon+dotprod, cpu-thermal zone, throttle point 80 °C (firmware), pwmfan with the active cooler.
source "$(dirname "$0")/lib.sh"
run_probe
f="$OUT/devices.json"
common_probe_checks
expect_jq "$f" '.board.platform == "RaspberryPi"' "platform RaspberryPi"
expect_jq "$f" '.board.model | startswith("Raspberry Pi 5")' "model Raspberry Pi 5"
expect_jq "$f" '.board.soc == "Broadcom BCM2712"' "SoC BCM2712"
expect_jq "$f" '.cpu.logical_cores == 4 and (.cpu.clusters | length) == 1 and .cpu.clusters[0].core_type == "Cortex-A76"' "4x Cortex-A76 in one cluster"
expect_jq "$f" '.cpu.performance_core_ids == [0,1,2,3]' "all four cores take inference threads"
expect_jq "$f" '(.cpu.isa_features | index("dotprod")) != null' "dotprod"
expect_jq "$f" '[.thermal_zones[] | select(.type == "cpu-thermal" and .celsius > 15 and .celsius < 100)] | length == 1' "cpu-thermal reads a sane temperature"
expect_jq "$f" '.throttle_celsius == 80' "throttle point 80 °C"
expect_jq "$f" '.battery == null' "no battery"
expect_jq "$f" '[.execution_providers[] | select(.name == "XnnpackExecutionProvider")] | length <= 1' "XNNPACK listed at most once"
wired_checks
generation_check
finish
