#!/usr/bin/env bash
# An x86 mini PC (e.g. Intel N100). Expected: model from DMI, AVX2, a CPU temperature from
# thermal zones or coretemp/k10temp, NVMe or SATA storage.
source "$(dirname "$0")/lib.sh"
run_probe
f="$OUT/devices.json"
common_probe_checks
expect_jq "$f" '.board.platform == "X86Pc" and .board.source == "dmi"' "platform X86Pc, model from DMI"
expect_jq "$f" '(.cpu.isa_features | index("avx2")) != null' "AVX2"
expect_jq "$f" '[.thermal_zones[] | select(.is_soc and .celsius > 15 and .celsius < 105)] | length >= 1' "CPU temperature readable"
expect_jq "$f" '[.storage.devices[] | select(.kind == "nvme" or .kind == "ssd")] | length >= 1' "NVMe or SSD storage"
generation_check
finish
