#!/usr/bin/env bash
# Shared checks for the on-board tests. Each board script sources this, then calls
# probe_checks, generation_check and finish. Needs: the edgenode binary (EDGENODE, default
# `edgenode` on PATH) and jq. A failed check prints what was expected and what was found.
set -euo pipefail

EDGENODE="${EDGENODE:-edgenode}"
MODEL_DIR="${MODEL_DIR:-}"
OUT="${OUT:-$(mktemp -d -t edgenode-hwtest.XXXXXX)}"
failures=0

command -v jq >/dev/null 2>&1 || { echo "hwtest: jq is required (apt install jq / pkg install jq)" >&2; exit 2; }
command -v "$EDGENODE" >/dev/null 2>&1 || [ -x "$EDGENODE" ] || { echo "hwtest: $EDGENODE not found; set EDGENODE=/path/to/edgenode" >&2; exit 2; }

ok()   { printf '  ok    %s\n' "$1"; }
fail() { printf '  FAIL  %s\n' "$1"; failures=$((failures + 1)); }

# expect_jq <file> <jq filter that must print true> <description>
expect_jq() {
  local file="$1" filter="$2" what="$3" got
  got="$(jq -r "$filter" "$file" 2>/dev/null || echo "jq error")"
  if [ "$got" = "true" ]; then ok "$what"; else fail "$what (filter: $filter)"; fi
}

run_probe() {
  echo "== probe: $EDGENODE devices --json"
  "$EDGENODE" devices --json > "$OUT/devices.json"
  "$EDGENODE" devices > "$OUT/devices.txt"
  sed 's/^/    /' "$OUT/devices.txt"
}

# Checks every board shares: the report parses, cores and memory are there, the
# performance cores are a non-empty subset of the cores, and the CPU EP runs.
common_probe_checks() {
  local f="$OUT/devices.json"
  expect_jq "$f" '.cpu.logical_cores >= 1' "cores found"
  expect_jq "$f" '(.cpu.performance_core_ids | length) >= 1' "performance cores chosen"
  expect_jq "$f" '[.cpu.performance_core_ids[] as $c | [.cpu.clusters[].core_ids[]] | index($c) != null] | all' "performance cores are real cores"
  expect_jq "$f" '.memory.total_bytes > 0 and .memory.available_bytes <= .memory.total_bytes' "memory total/available"
  expect_jq "$f" '[.execution_providers[] | select(.name == "cpu" and .runs)] | length == 1' "CPU execution provider runs"
  expect_jq "$f" '(.problems | length) == 0' "probe reported no problems"
}

# A short generation: 32 tokens from the given model; energy per token when a power sensor exists.
generation_check() {
  if [ -z "$MODEL_DIR" ]; then
    fail "generation skipped: set MODEL_DIR to a model folder (e.g. stories260K)"
    return
  fi
  echo "== generate: 32 tokens from $MODEL_DIR"
  "$EDGENODE" generate --model "$MODEL_DIR" --prompt "Once upon a time" --max-tokens 32 --json > "$OUT/generate.json"
  expect_jq "$OUT/generate.json" '(.tokens | length) == 32' "32 tokens generated"
  expect_jq "$OUT/generate.json" '(.decode_tok_s > 0)' "throughput reported"
  if [ "$(jq '.power_sensors | length' "$OUT/devices.json")" -gt 0 ]; then
    expect_jq "$OUT/generate.json" '((.joules_per_token // 0) > 0)' "energy per token measured"
  fi
}

# The LED/button/INA219 wiring of README.md, when present (HWTEST_WIRED=1).
wired_checks() {
  [ "${HWTEST_WIRED:-0}" = "1" ] || { echo "== wiring checks skipped (HWTEST_WIRED=1 to run them)"; return; }
  local f="$OUT/devices.json" chip="${LED_CHIP:-gpiochip0}"
  expect_jq "$f" "[.device_nodes[] | select(.path == \"/dev/$chip\")] | length == 1" "LED chip /dev/$chip present"
  expect_jq "$f" "[.device_nodes[] | select(.path == \"/dev/i2c-${INA219_BUS:-1}\")] | length == 1" "INA219 bus /dev/i2c-${INA219_BUS:-1} present"
  # Driving the LED and reading the button and INA219 go through the agent once it exposes them;
  # until then the nodes above prove the kernel side of the wiring is there.
}

finish() {
  echo "== results in $OUT"
  if [ "$failures" -eq 0 ]; then echo "hwtest: all checks passed"; else echo "hwtest: $failures check(s) failed"; exit 1; fi
}
