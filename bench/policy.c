/*
 * Policy decisions per second with 10, 100 and 1,000 rules, on paths and
 * commands of the kind agents send.
 *
 * Build and run (after `make all`):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -I. bench/policy.c \
 *     build/libcoworker-supervisor.a $(pkg-config --libs libcjson libcrypto) \
 *     -o build/bench-policy && build/bench-policy
 *
 * Each rule set mixes Read and Write globs, Exec prefix and exact rules
 * and a few deny rules, with the built-in protected list loaded. Every
 * measurement runs for about half a second of wall-clock time and reports
 * the mean time per decision (CLOCK_MONOTONIC), so a single run is an
 * estimate that varies with the machine and its load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/internal.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Rule k of a set: cycles through the kinds of rules policies hold. */
static void rule_text(size_t k, char *buf, size_t size,
		      enum policy_decision *d)
{
	*d = k % 10 == 9 ? POLICY_DENY : k % 10 == 8 ? POLICY_ASK :
	     POLICY_ALLOW;
	switch (k % 6) {
	case 0:
		snprintf(buf, size, "Read(src/module%zu/**/*.c)", k);
		break;
	case 1:
		snprintf(buf, size, "Write(build/target%zu/**)", k);
		break;
	case 2:
		snprintf(buf, size, "Exec(make target%zu)", k);
		break;
	case 3:
		snprintf(buf, size, "Exec(npm run script%zu:*)", k);
		break;
	case 4:
		snprintf(buf, size, "Exec(git log --author=dev%zu:*)", k);
		break;
	default:
		snprintf(buf, size, "Read(docs/part%zu/*.md)", k);
		break;
	}
}

static void build(struct policy *p, size_t n)
{
	char text[256], err[512];
	enum policy_decision d;
	size_t k;

	policy_init(p);
	if (policy_set_roots(p, "/home/dev/project", "/home/dev") < 0 ||
	    policy_protected_load(p, err, sizeof(err)) < 0)
		exit(1);
	for (k = 0; k < n; k++) {
		rule_text(k, text, sizeof(text), &d);
		if (policy_add_rule(p, d, text, "bench", err,
				    sizeof(err)) < 0) {
			fprintf(stderr, "bench: %s\n", err);
			exit(1);
		}
	}
}

static volatile int sink;

typedef void (*decide_fn)(const struct policy *p, const char *subject);

static void decide_read(const struct policy *p, const char *subject)
{
	sink += policy_decide_path(p, POLICY_READ, subject).decision;
}

static void decide_exec(const struct policy *p, const char *subject)
{
	sink += policy_decide_command(p, subject).decision;
}

/* Mean nanoseconds per call of fn over about half a second. */
static double measure(const struct policy *p, decide_fn fn,
		      const char *subject)
{
	double start = now(), elapsed;
	long calls = 0, batch;

	do {
		for (batch = 0; batch < 1000; batch++)
			fn(p, subject);
		calls += 1000;
		elapsed = now() - start;
	} while (elapsed < 0.5);
	return elapsed * 1e9 / (double)calls;
}

int main(void)
{
	static const struct {
		const char *name;
		decide_fn fn;
		const char *subject;
	} cases[] = {
		{ "read path", decide_read, "src/module42/net/socket.c" },
		{ "read .env", decide_read, "config/.env" },
		{ "exec simple", decide_exec, "git diff --stat" },
		{ "exec chain", decide_exec,
		  "cd /testbed && grep -n \"separable\" astropy/modeling/core.py | head -30" },
		{ "exec heredoc", decide_exec,
		  "cat > test_a.py << 'EOF'\nimport re\nprint(re.compile('x'))\nEOF" },
	};
	static const size_t sizes[] = { 10, 100, 1000 };
	struct policy p;
	size_t s, c;

	printf("%-14s %8s %12s %14s\n", "case", "rules", "ns/decision",
	       "decisions/s");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		build(&p, sizes[s]);
		for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			double ns = measure(&p, cases[c].fn, cases[c].subject);

			printf("%-14s %8zu %12.0f %14.0f\n", cases[c].name,
			       sizes[s], ns, 1e9 / ns);
		}
		policy_free(&p);
	}
	return 0;
}
