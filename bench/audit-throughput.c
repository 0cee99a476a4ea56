/*
 * Audit log throughput: events per second appended in batched mode, with
 * sync=true (one fdatasync per event), and lines per second verified.
 *
 * Usage: audit-throughput [DIR [BATCHED_EVENTS [SYNCED_EVENTS]]]
 * DIR (default ".") must be on the file system to measure: a tmpfs makes
 * fdatasync free. The log is written to a fresh directory inside DIR and
 * removed afterwards. Not built by the Makefile yet; compile it by hand:
 *
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I. $(pkg-config --cflags libcjson) \
 *      bench/audit-throughput.c build/libcoworker-supervisor.a \
 *      $(pkg-config --libs libcjson libcrypto) -o build/audit-throughput
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "supervisor/audit.h"

/* An API key of a realistic length, so redaction is part of the cost. */
#define BENCH_SECRET "sk-bench-0123456789abcdefghijklmnopqrstuvwxyz"

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long parse_count(const char *arg, const char *name)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || *end || n <= 0) {
		fprintf(stderr,
			"audit-throughput: %s must be a positive integer, not '%s'\n",
			name, arg);
		exit(2);
	}
	return n;
}

/* A typical request record: a brokered file read and its decision. */
static cJSON *bench_fields(long i)
{
	cJSON *fields = cJSON_CreateObject();
	cJSON *result = cJSON_CreateObject();

	cJSON_AddNumberToObject(fields, "worker", 1);
	cJSON_AddNumberToObject(fields, "id", (double)i);
	cJSON_AddStringToObject(fields, "type", "read_file");
	cJSON_AddStringToObject(fields, "path", "src/supervisor/broker_file.c");
	cJSON_AddStringToObject(fields, "decision", "allow");
	cJSON_AddStringToObject(fields, "rule", "Read(src/**)");
	cJSON_AddNumberToObject(result, "bytes", 18234);
	cJSON_AddNumberToObject(result, "duration_us", 41);
	cJSON_AddItemToObject(fields, "result", result);
	return fields;
}

/* Append n events; returns events per second, or -1 on failure. */
static double bench_append(const char *path, long n, bool sync)
{
	char err[512];
	struct audit_log *log = audit_open(path, BENCH_SECRET, err, sizeof(err));
	double start, elapsed;
	long i;

	if (!log) {
		fprintf(stderr, "audit-throughput: %s\n", err);
		return -1;
	}

	start = now_seconds();
	for (i = 0; i < n; i++) {
		cJSON *fields = bench_fields(i);
		int rc = audit_append(log, "request", fields, sync, err,
				      sizeof(err));

		cJSON_Delete(fields);
		if (rc < 0) {
			fprintf(stderr, "audit-throughput: %s\n", err);
			audit_close(log, err, sizeof(err));
			return -1;
		}
	}
	if (audit_close(log, err, sizeof(err)) < 0) {
		fprintf(stderr, "audit-throughput: %s\n", err);
		return -1;
	}
	elapsed = now_seconds() - start;
	return (double)n / elapsed;
}

static double bench_verify(const char *path, long lines)
{
	FILE *devnull = fopen("/dev/null", "w");
	enum audit_verify_status status;
	double start = now_seconds();

	if (!devnull)
		return -1;
	status = audit_verify(path, NULL, devnull);
	fclose(devnull);
	if (status != AUDIT_VERIFY_OK) {
		fprintf(stderr, "audit-throughput: %s does not verify\n", path);
		return -1;
	}
	return (double)lines / (now_seconds() - start);
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : ".";
	long batched = argc > 2 ? parse_count(argv[2], "BATCHED_EVENTS") : 200000;
	long synced = argc > 3 ? parse_count(argv[3], "SYNCED_EVENTS") : 2000;
	char dir[4096], batched_path[4200], synced_path[4200];
	double batched_rate, synced_rate, verify_rate;
	int rc = 1;

	snprintf(dir, sizeof(dir), "%s/audit-bench-XXXXXX", base);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "audit-throughput: cannot create a directory in %s: %s\n",
			base, strerror(errno));
		return 1;
	}
	snprintf(batched_path, sizeof(batched_path), "%s/batched.jsonl", dir);
	snprintf(synced_path, sizeof(synced_path), "%s/synced.jsonl", dir);

	batched_rate = bench_append(batched_path, batched, false);
	synced_rate = bench_append(synced_path, synced, true);
	verify_rate = bench_verify(batched_path, batched);
	if (batched_rate < 0 || synced_rate < 0 || verify_rate < 0)
		goto out;

	printf("batched appends:   %10.0f events/s (%ld events)\n",
	       batched_rate, batched);
	printf("sync=true appends: %10.0f events/s (%ld events)\n",
	       synced_rate, synced);
	printf("verify:            %10.0f lines/s\n", verify_rate);
	rc = 0;
out:
	unlink(batched_path);
	unlink(synced_path);
	rmdir(dir);
	return rc;
}
