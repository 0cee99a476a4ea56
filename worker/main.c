/*
 * coworker-worker: the confined side of coworker. The supervisor starts it
 * with a SOCK_SEQPACKET socket on descriptor 3, sends "config", waits for
 * "ready" after the lock-down, checks the confinement and sends "task".
 * After each task's "done" the worker waits for the next message; the
 * supervisor closing the socket is its normal end.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "compact.h"
#include "channel.h"
#include "config.h"
#include "confine.h"
#include "http.h"

#define SUPERVISOR_FD 3

#ifdef COWORKER_SANITIZER_PROFILE
/*
 * LeakSanitizer stops the process from a cloned thread with ptrace and
 * reads /proc, none of which the worker may do, so leak checking is off
 * in the worker of a sanitizer build. The worker's code is leak-checked
 * by its unit tests, which run without the lock-down. ASan and UBSan stay
 * on. This function exists only in sanitizer builds.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#endif

static void check_supervisor_fd(void)
{
	socklen_t len;
	struct stat st;
	int type = 0, domain = 0;

	len = sizeof(type);
	if (fstat(SUPERVISOR_FD, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    getsockopt(SUPERVISOR_FD, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	    type == SOCK_SEQPACKET &&
	    getsockopt(SUPERVISOR_FD, SOL_SOCKET, SO_DOMAIN, &domain,
		       &len) == 0 && domain == AF_UNIX)
		return;
	fputs("coworker-worker: descriptor 3 is not a unix SOCK_SEQPACKET "
	      "socket. coworker-worker is started by coworker; do not run "
	      "it directly.\n", stderr);
	exit(2);
}

/* Everything that needs files, new descriptors or threads happens here. */
static void worker_start(struct channel *ch, struct worker_config *cfg,
			 struct http_client *http)
{
	struct proto_msg msg;
	char err[512];

	channel_expect(ch, PROTO_CONFIG, "waiting for the config", &msg);
	if (config_from_msg(&msg, cfg, err, sizeof(err)) < 0) {
		proto_msg_free(&msg);
		channel_log(ch, "error", "invalid config: %s", err);
		channel_die("invalid config: %s", err);
	}
	proto_msg_free(&msg);

	if (http_client_init(http, cfg, ch, err, sizeof(err)) < 0) {
		channel_log(ch, "error", "%s", err);
		channel_die("%s", err);
	}

	/* glibc reads /etc/localtime on first use; do it while it can. */
	tzset();
	signal(SIGPIPE, SIG_IGN);
}

/*
 * The supervisor sets COWORKER_SANDBOX=weaker when it started the worker
 * without namespaces; the supervisor's check of /proc decides whether the
 * result is confined enough, so a wrong value here cannot widen anything.
 */
static unsigned int lock_down_flags(void)
{
	const char *mode = getenv("COWORKER_SANDBOX");

	return mode && strcmp(mode, "weaker") == 0 ? CONFINE_WEAKER : 0;
}

/* Irreversible; a worker that fails half-way exits instead of running. */
static void worker_lock_down(struct channel *ch)
{
	cJSON *fields;
	char err[512];
	int abi = 0;

	if (confine_all_flags(lock_down_flags(), &abi, err, sizeof(err)) < 0) {
		channel_log(ch, "error", "lock-down failed: %s", err);
		channel_die("lock-down failed: %s", err);
	}

	fields = cJSON_CreateObject();
	if (!fields || !cJSON_AddNumberToObject(fields, "landlock_abi", abi))
		channel_die("out of memory");
	channel_event(ch, PROTO_READY, fields);
	cJSON_Delete(fields);
}

/*
 * Compact the conversation on the supervisor's request, between tasks.
 * The "compaction" event comes from compact_run; "done" ends the request.
 */
static void worker_compact(struct agent *a)
{
	struct compact_result r;
	char err[1024];
	int rc;

	rc = compact_run(&a->model, a->messages, 0, &r, err, sizeof(err));
	context_budget_add(&a->budget, r.prompt_tokens, r.completion_tokens);
	if (rc < 0) {
		agent_send_done(a, "error", err);
		return;
	}
	if (rc == 1) {
		agent_send_done(a, "ok", "nothing to compact: the conversation "
				"is already short");
		return;
	}
	/* The "compaction" event already carries the numbers. */
	agent_send_done(a, "ok", NULL);
}

/* Later model requests read cfg->model, so the change applies from now on. */
static void worker_set_model(struct worker_config *cfg, const char *model)
{
	char *copy = strdup(model);

	if (!copy)
		channel_die("out of memory");
	free(cfg->model);
	cfg->model = copy;
}

/*
 * Serve messages until the supervisor closes the socket. Returns the
 * status of the last task: 0 unless it ended with "error".
 */
static int worker_serve(struct channel *ch, struct agent *a,
			struct worker_config *cfg)
{
	struct proto_msg msg;
	int status = 0;

	while (channel_next(ch, &msg) == 1) {
		switch (msg.type->id) {
		case PROTO_TASK:
			status = agent_task(a, proto_str(&msg, "text"));
			break;
		case PROTO_CLEAR:
			agent_clear(a);
			break;
		case PROTO_COMPACT:
			worker_compact(a);
			break;
		case PROTO_SET_MODEL:
			worker_set_model(cfg, proto_str(&msg, "model"));
			break;
		case PROTO_CANCEL:
			/* Came after the task had ended: nothing to stop. */
			break;
		default:
			channel_die("protocol violation while waiting for a "
				    "task: unexpected \"%s\" message",
				    msg.type->name);
		}
		proto_msg_free(&msg);
	}
	return status;
}

int main(void)
{
	struct worker_config cfg;
	struct http_client http;
	struct channel ch;
	struct agent agent;

	if (strcmp(confine_profile(), "normal") != 0)
		fprintf(stderr, "coworker-worker: %s build: wider seccomp "
			"profile\n", confine_profile());
	check_supervisor_fd();
	/* Nothing but stdio and the socket may cross into the worker. */
	close_range(SUPERVISOR_FD + 1, ~0U, 0);

	memset(&cfg, 0, sizeof(cfg));
	memset(&http, 0, sizeof(http));
	channel_init(&ch, SUPERVISOR_FD);
	worker_start(&ch, &cfg, &http);
	worker_lock_down(&ch);

	agent_init(&agent, &ch, &http, &cfg);
	worker_serve(&ch, &agent, &cfg);

	agent_free(&agent);
	http_client_free(&http);
	config_free(&cfg);
	close(SUPERVISOR_FD);
	return 0;
}
