#!/bin/sh
# Requests per second that one supervisor answers for a worker that floods
# it: tests/helpers/bad-worker in "flood" mode sends 10,000 read_file
# requests without waiting, reading a reply only when its socket is full.
# Each request is judged, audited (three lines, synced in batches) and
# answered with a descriptor of an open file.
#
#   bench/worker-flood.sh [BUILD_DIR] [RUNS]
#
# Needs `make check` (or the bad-worker helper) built first. Prints the
# wall-clock time of each run and the median requests per second.
set -eu

BUILD=$(cd "${1:-build}" && pwd)
RUNS=${2:-5}
BAD=$BUILD/tests/helpers/bad-worker
[ -x "$BAD" ] || { echo "build $BAD first (make check)" >&2; exit 1; }
TOP=$(mktemp -d /tmp/cw-flood-XXXXXX)
trap 'rm -rf "$TOP"' EXIT
mkdir "$TOP/ws"
echo flood > "$TOP/ws/flood.txt"

n=0
: > "$TOP/rates.txt"
while [ "$n" -lt "$RUNS" ]; do
	start=$(date +%s%N)
	COWORKER_WORKER=$BAD OPENAI_API_KEY=sk-bench-0123456789 \
		"$BUILD/coworker" exec -C "$TOP/ws" --audit "$TOP/a$n.jsonl" \
		--base-url http://127.0.0.1:9/v1 --model flood "flood" \
		> "$TOP/out.txt" 2> /dev/null
	end=$(date +%s%N)
	grep -q '10000 replies in order' "$TOP/out.txt"
	ms=$(( (end - start) / 1000000 ))
	echo "run $n: 10000 requests in $ms ms"
	echo "$ms" >> "$TOP/rates.txt"
	n=$((n + 1))
done
sort -n "$TOP/rates.txt" | awk '{ v[NR] = $1 } END {
	m = v[int((NR + 1) / 2)];
	printf "median %d ms per 10000 requests: %.0f requests/s\n", m, 10000000 / m }'
