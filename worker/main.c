/*
 * coworker-worker: the confined side of coworker. The supervisor starts it
 * with a SOCK_SEQPACKET socket on descriptor 3, sends "config", waits for
 * "ready" after the lock-down, checks the confinement and sends "task".
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

int main(void)
{
	struct worker_config cfg;
	struct http_client http;
	struct channel ch;
	struct proto_msg msg;
	char *task;
	int status;

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

	channel_expect(&ch, PROTO_TASK, "waiting for the task", &msg);
	task = strdup(proto_str(&msg, "text"));
	proto_msg_free(&msg);
	if (!task)
		channel_die("out of memory");

	status = agent_run(&ch, &http, &cfg, task);

	free(task);
	http_client_free(&http);
	config_free(&cfg);
	close(SUPERVISOR_FD);
	return status;
}
