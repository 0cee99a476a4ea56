/*
 * Verifying a worker's confinement from outside before it gets a task, and
 * describing it for the audit log. The worker reports "ready" after its
 * lock-down, but a compromised or broken worker could lie, so every layer
 * that /proc shows is read back here.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker_proc.h"

#define STATUS_MAX 16384
#define MOUNTINFO_MAX 8192

static const struct {
	const char *proc_name;	/* entry in /proc/PID/ns */
	const char *audit_name;
	unsigned long flag;
} namespaces[] = {
	{ "user", "user", CLONE_NEWUSER },
	{ "pid", "pid", CLONE_NEWPID },
	{ "net", "net", CLONE_NEWNET },
	{ "mnt", "mount", CLONE_NEWNS },
	{ "ipc", "ipc", CLONE_NEWIPC },
	{ "uts", "uts", CLONE_NEWUTS },
};

static int read_proc(pid_t pid, const char *name, char *buf, size_t size,
		     char *err, size_t errlen)
{
	char path[64];
	size_t len = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path,
			 strerror(errno));
		return -1;
	}
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (len == 0 || len == size - 1) {
		snprintf(err, errlen, "cannot read %s: %s", path,
			 len ? "longer than expected" : "empty");
		return -1;
	}
	return 0;
}

/* The text after "Name:" in a /proc status text, or NULL. */
static const char *status_value(const char *text, const char *name)
{
	size_t len = strlen(name);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, name, len) == 0 && p[len] == ':')
			return p + len + 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

/* A numeric field in the given base, or -1 when missing or malformed. */
static long long status_number(const char *text, const char *name, int base)
{
	const char *v = status_value(text, name);
	long long n;
	char *end;

	if (!v)
		return -1;
	errno = 0;
	n = strtoll(v, &end, base);
	if (errno || end == v || (*end != '\n' && *end != '\0'))
		return -1;
	return n;
}

/* Whether all four ids of a Uid: or Gid: line equal want. */
static int ids_all_equal(const char *text, const char *name, long want)
{
	const char *p = status_value(text, name);
	char *end;
	long id;
	int i;

	if (!p)
		return 0;
	for (i = 0; i < 4; i++) {
		errno = 0;
		id = strtol(p, &end, 10);
		if (errno || end == p || id != want)
			return 0;
		p = end;
	}
	return *p == '\n' || *p == '\0';
}

/*
 * want_bounding is 0 only for a weaker worker under an unprivileged
 * supervisor, which cannot empty the bounding set; no_new_privs and the
 * seccomp filter's ban on execve leave that set nothing to grant.
 */
static int check_status(pid_t pid, int want_bounding, char *err,
			size_t errlen)
{
	static const char *const caps[] = {
		"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
	};
	long want_uid = geteuid() == 0 ? WORKER_ROOT_HOST_UID : (long)geteuid();
	long want_gid = geteuid() == 0 ? WORKER_ROOT_HOST_GID : (long)getegid();
	char text[STATUS_MAX];
	const char *groups;
	long long seccomp, nnp, value;
	size_t i;

	if (read_proc(pid, "status", text, sizeof(text), err, errlen) < 0)
		return -1;
	seccomp = status_number(text, "Seccomp", 10);
	nnp = status_number(text, "NoNewPrivs", 10);
	if (seccomp != 2 || nnp != 1) {
		snprintf(err, errlen, "the worker is not confined (Seccomp: %lld, "
			 "NoNewPrivs: %lld; expected 2 and 1)", seccomp, nnp);
		return -1;
	}

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (!want_bounding && strcmp(caps[i], "CapBnd") == 0)
			continue;
		value = status_number(text, caps[i], 16);
		if (value != 0) {
			snprintf(err, errlen, "the worker is not confined (%s: "
				 "%llx; expected 0, no capabilities)", caps[i],
				 value);
			return -1;
		}
	}

	if (!ids_all_equal(text, "Uid", want_uid) ||
	    !ids_all_equal(text, "Gid", want_gid)) {
		snprintf(err, errlen, "the worker is not confined (it does not "
			 "run as host uid %ld and gid %ld)", want_uid, want_gid);
		return -1;
	}

	/* Deliberately checked again: root's groups must not reach it. */
	groups = status_value(text, "Groups");
	if (geteuid() == 0 && (!groups || groups[strspn(groups, " \t")] != '\n')) {
		snprintf(err, errlen, "the worker is not confined (it kept "
			 "supplementary groups)");
		return -1;
	}
	return 0;
}

static int check_namespaces(pid_t pid, char *err, size_t errlen)
{
	char path[64], mine[64], theirs[64];
	ssize_t n, m;
	size_t i;

	for (i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s",
			 namespaces[i].proc_name);
		n = readlink(path, mine, sizeof(mine) - 1);
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid,
			 namespaces[i].proc_name);
		m = readlink(path, theirs, sizeof(theirs) - 1);
		if (n < 0 || m < 0) {
			snprintf(err, errlen, "cannot read %s: %s", path,
				 strerror(errno));
			return -1;
		}
		if (n == m && memcmp(mine, theirs, (size_t)n) == 0) {
			snprintf(err, errlen, "the worker is not confined (it "
				 "shares the supervisor's %s namespace)",
				 namespaces[i].audit_name);
			return -1;
		}
	}
	return 0;
}

/*
 * The worker's mount namespace must hold exactly one mount: a read-only
 * tmpfs on "/". A mountinfo line reads "ID PARENT MAJ:MIN ROOT MOUNTPOINT
 * OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS".
 */
static int check_empty_root(pid_t pid, char *err, size_t errlen)
{
	char text[MOUNTINFO_MAX], point[256], options[256], fstype[64];
	const char *sep;
	char *nl;

	if (read_proc(pid, "mountinfo", text, sizeof(text), err, errlen) < 0)
		return -1;
	nl = strchr(text, '\n');
	if (!nl || nl[1] != '\0')
		goto fail;
	*nl = '\0';
	sep = strstr(text, " - ");
	if (!sep ||
	    sscanf(text, "%*s %*s %*s %*s %255s %255s", point, options) != 2 ||
	    sscanf(sep, " - %63s", fstype) != 1)
		goto fail;
	if (strcmp(point, "/") == 0 && strcmp(fstype, "tmpfs") == 0 &&
	    strncmp(options, "ro,", 3) == 0)
		return 0;
fail:
	snprintf(err, errlen, "the worker is not confined (its root is not "
		 "one read-only tmpfs)");
	return -1;
}

int worker_check_confinement(pid_t pid, char *err, size_t errlen)
{
	if (check_status(pid, 1, err, errlen) < 0 ||
	    check_namespaces(pid, err, errlen) < 0 ||
	    check_empty_root(pid, err, errlen) < 0)
		return -1;
	return 0;
}

int worker_check(const struct worker_proc *w, char *err, size_t errlen)
{
	if (!w->weaker)
		return worker_check_confinement(w->pid, err, errlen);
	return check_status(w->pid, geteuid() == 0, err, errlen);
}

int worker_describe_layers(const struct worker_proc *w, cJSON *out)
{
	cJSON *names = cJSON_CreateArray();
	size_t i;

	if (!names)
		return -1;
	for (i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++) {
		if (!(w->namespaces & namespaces[i].flag))
			continue;
		if (!cJSON_AddItemToArray(names,
				cJSON_CreateString(namespaces[i].audit_name))) {
			cJSON_Delete(names);
			return -1;
		}
	}
	if (!cJSON_AddItemToObject(out, "namespaces", names)) {
		cJSON_Delete(names);
		return -1;
	}
	if (!cJSON_AddNumberToObject(out, "uid", (double)w->uid) ||
	    !cJSON_AddNumberToObject(out, "gid", (double)w->gid) ||
	    !cJSON_AddBoolToObject(out, "groups_cleared", w->groups_cleared) ||
	    !cJSON_AddStringToObject(out, "root", w->weaker ?
				     "the supervisor's" : "empty read-only tmpfs") ||
	    !cJSON_AddStringToObject(out, "capabilities",
				     w->weaker && geteuid() != 0 ?
				     "none; bounding set not emptied" : "none") ||
	    !cJSON_AddBoolToObject(out, "weaker", w->weaker))
		return -1;
	if (w->weaker &&
	    !cJSON_AddStringToObject(out, "weaker_reason", w->weaker_reason))
		return -1;
#ifdef COWORKER_SANITIZER_PROFILE
	/* The worker of this build runs a wider filter; see worker/seccomp.c. */
	if (!cJSON_AddStringToObject(out, "profile", "sanitizer"))
		return -1;
#endif
	return 0;
}
