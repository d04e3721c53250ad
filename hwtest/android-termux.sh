#!/usr/bin/env bash
# An Android phone under Termux (pkg install jq). Expected: platform AndroidPhone, the model from
# build properties, big.LITTLE clusters with the little cluster left out, a battery, FastRPC nodes
# on Snapdragon. Run it twice: on the charger and on battery below the governor's level.
source "$(dirname "$0")/lib.sh"
run_probe
f="$OUT/devices.json"
common_probe_checks
expect_jq "$f" '.board.platform == "AndroidPhone" and .board.source == "android"' "platform AndroidPhone from build properties"
expect_jq "$f" '.board.soc != null' "SoC named"
expect_jq "$f" '(.cpu.clusters | length) >= 2 and (.cpu.clusters[0].is_performance | not)' "little cluster left to the OS"
expect_jq "$f" '.battery != null and .battery.capacity_percent >= 0 and .battery.capacity_percent <= 100' "battery with capacity"
if jq -e '.board.soc | test("Qualcomm|SM[0-9]")' "$f" >/dev/null; then
  expect_jq "$f" '[.device_nodes[] | select(.kind == "qualcomm-fastrpc")] | length >= 1' "FastRPC nodes (QNN/Hexagon)"
fi
generation_check
finish
