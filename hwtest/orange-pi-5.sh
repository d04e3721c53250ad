#!/usr/bin/env bash
# Orange Pi 5 (RK3588S: 4x A55 + 2x2 A76). Expected: three clusters, A76 cores 4-7 as the
# performance cores, soc/bigcore/littlecore zones, RKNPU render node.
source "$(dirname "$0")/lib.sh"
run_probe
f="$OUT/devices.json"
common_probe_checks
expect_jq "$f" '.board.platform == "Rockchip"' "platform Rockchip"
expect_jq "$f" '.board.model | test("Orange Pi 5")' "model Orange Pi 5"
expect_jq "$f" '.board.soc | test("RK3588")' "SoC RK3588"
expect_jq "$f" '.cpu.logical_cores == 8 and (.cpu.clusters | length) == 3' "8 cores in 3 clusters"
expect_jq "$f" '.cpu.clusters[0].core_type == "Cortex-A55" and (.cpu.clusters[0].is_performance | not)' "A55 cluster is the efficiency cluster"
expect_jq "$f" '.cpu.performance_core_ids == [4,5,6,7]' "A76 cores 4-7 take inference threads"
expect_jq "$f" '[.thermal_zones[] | select(.type | test("bigcore|littlecore|soc"))] | length >= 3' "SoC thermal zones"
expect_jq "$f" '.throttle_celsius != null and .throttle_celsius <= 85' "throttle point from trip points"
expect_jq "$f" '[.device_nodes[] | select(.kind == "drm")] | length >= 2' "GPU and NPU render nodes"
wired_checks
generation_check
finish
