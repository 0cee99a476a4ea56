/*
 * The risky-option table: programs whose options run other programs or
 * write files, and programs that run a program named in their words.
 *
 * An allow rule such as Exec(find:*) is written with listing files in
 * mind; "find . -exec rm {} +" or "sed -i" is a different act. Such forms
 * need a rule that spells them out (policy_program_risk), and a program
 * run by another one (find -exec, xargs, env, timeout, ...) is judged as a
 * command of its own (policy_program_wrapped).
 * NOTE: no such table is complete; the command sandbox bounds what a
 * missed form can do.
 */
#include <stdbool.h>
#include <string.h>

#include "internal.h"

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static const char *word(const struct policy_simple_command *cmd, size_t i)
{
	return i < cmd->nwords ? cmd->words[i].text : NULL;
}

/* word equals opt, or starts with opt followed by "=" (long options). */
static bool is_opt(const char *w, const char *opt)
{
	size_t n = strlen(opt);

	return strncmp(w, opt, n) == 0 && (w[n] == '\0' || w[n] == '=');
}

/* A short-option cluster ("-ni", "-Ei") that contains letter. */
static bool short_cluster_has(const char *w, char letter)
{
	return w[0] == '-' && w[1] != '-' && w[1] != '\0' &&
	       strchr(w + 1, letter) != NULL;
}

/* ---------- find ---------- */

static bool find_is_exec(const char *w)
{
	return strcmp(w, "-exec") == 0 || strcmp(w, "-execdir") == 0 ||
	       strcmp(w, "-ok") == 0 || strcmp(w, "-okdir") == 0;
}

static bool find_is_fprint(const char *w)
{
	return strcmp(w, "-fprint") == 0 || strcmp(w, "-fprint0") == 0 ||
	       strcmp(w, "-fprintf") == 0 || strcmp(w, "-fls") == 0;
}

static const char *find_risk(const struct policy_simple_command *cmd,
			     size_t *index)
{
	size_t i;

	for (i = 1; i < cmd->nwords; i++) {
		*index = i;
		if (find_is_exec(cmd->words[i].text))
			return "find -exec runs another program; it needs a rule that spells out -exec";
		if (strcmp(cmd->words[i].text, "-delete") == 0)
			return "find -delete removes files; it needs a rule that spells out -delete";
		if (find_is_fprint(cmd->words[i].text))
			return "find -fprint writes a file; it needs a rule that spells out the option";
	}
	return NULL;
}

static bool find_wrapped(const struct policy_simple_command *cmd,
			 size_t *from, size_t *start, size_t *end)
{
	size_t i, j;

	for (i = *from ? *from : 1; i < cmd->nwords; i++) {
		if (!find_is_exec(cmd->words[i].text))
			continue;
		for (j = i + 1; j < cmd->nwords; j++) {
			if (strcmp(cmd->words[j].text, ";") == 0 ||
			    strcmp(cmd->words[j].text, "+") == 0)
				break;
		}
		*start = i + 1;
		*end = j;
		*from = j + 1;
		if (*end > *start)
			return true;
	}
	*from = cmd->nwords;
	return false;
}

static const char *find_target(const struct policy_simple_command *cmd,
			       size_t k)
{
	size_t i;

	for (i = 1; i + 1 < cmd->nwords; i++) {
		if (find_is_fprint(cmd->words[i].text) && k-- == 0)
			return cmd->words[i + 1].text;
	}
	return NULL;
}

/* ---------- sed ---------- */

/* Skip a delimited part ("/re/") beginning after its opening delim. */
static const char *sed_skip_part(const char *s, char delim)
{
	while (*s && *s != delim) {
		if (*s == '\\' && s[1])
			s++;
		s++;
	}
	return *s ? s + 1 : s;
}

static const char *sed_skip_address(const char *s)
{
	for (;;) {
		if (*s == '/') {
			s = sed_skip_part(s + 1, '/');
		} else if (*s == '\\' && s[1]) {
			s = sed_skip_part(s + 2, s[1]);
		} else if (*s && strchr("0123456789$,~!+ \t", *s)) {
			s++;
		} else {
			return s;
		}
	}
}

/*
 * True when a sed script uses a command or flag that writes files or runs
 * programs: "e", "w", "W", or the "e" and "w" flags of "s".
 */
static bool sed_script_risky(const char *s)
{
	char c, delim;

	while (*s) {
		while (*s && strchr(" \t\n;{}", *s))
			s++;
		s = sed_skip_address(s);
		c = *s;
		if (!c)
			return false;
		s++;
		if (c == 'e' || c == 'w' || c == 'W')
			return true;
		if (c == 's' || c == 'y') {
			delim = *s;
			if (!delim || delim == '\n' || delim == '\\')
				return false;
			s = sed_skip_part(sed_skip_part(s + 1, delim), delim);
			while (*s && !strchr(";\n}", *s)) {
				if (c == 's' && (*s == 'e' || *s == 'w'))
					return true;
				s++;
			}
		} else if (strchr("aic:btTrR", c)) {
			while (*s && *s != '\n' && (c != ':' || *s != ';'))
				s++;
		}
	}
	return false;
}

static const char *sed_risk(const struct policy_simple_command *cmd,
			    size_t *index)
{
	static const char inplace[] = "sed -i edits files in place; it needs a rule that spells out -i";
	static const char runs[] = "the sed script writes files or runs programs (w, W, e); it needs a rule that spells it out";
	bool have_script = false;
	const char *w;
	size_t i;

	for (i = 1; (w = word(cmd, i)); i++) {
		*index = i;
		if (is_opt(w, "--in-place") || short_cluster_has(w, 'i'))
			return inplace;
		if (is_opt(w, "--file") || strcmp(w, "-f") == 0)
			return "sed -f reads its script from a file that is not judged; it needs a rule that spells out -f";
		if ((strcmp(w, "-e") == 0 || strcmp(w, "--expression") == 0) &&
		    word(cmd, i + 1)) {
			have_script = true;
			if (sed_script_risky(word(cmd, ++i)))
				return runs;
		} else if (strncmp(w, "--expression=", 13) == 0) {
			have_script = true;
			if (sed_script_risky(w + 13))
				return runs;
		} else if (w[0] != '-' && !have_script) {
			have_script = true;
			if (sed_script_risky(w))
				return runs;
		}
	}
	return NULL;
}

/* ---------- sort, tar, rg, awk, git, watch ---------- */

static const char *sort_risk(const struct policy_simple_command *cmd,
			     size_t *index)
{
	const char *w;
	size_t i;

	for (i = 1; (w = word(cmd, i)); i++) {
		*index = i;
		if (is_opt(w, "--output") || strncmp(w, "-o", 2) == 0)
			return "sort -o writes a file; it needs a rule that spells out -o";
		if (is_opt(w, "--compress-program"))
			return "sort --compress-program runs another program; it needs a rule that spells it out";
	}
	return NULL;
}

static const char *sort_target(const struct policy_simple_command *cmd,
			       size_t k)
{
	const char *w;
	size_t i;

	for (i = 1; (w = word(cmd, i)); i++) {
		if (strcmp(w, "-o") == 0 || strcmp(w, "--output") == 0) {
			if (word(cmd, i + 1) && k-- == 0)
				return word(cmd, i + 1);
		} else if (strncmp(w, "--output=", 9) == 0) {
			if (k-- == 0)
				return w + 9;
		} else if (strncmp(w, "-o", 2) == 0 && w[2]) {
			if (k-- == 0)
				return w + 2;
		}
	}
	return NULL;
}

static const char *tar_risk(const struct policy_simple_command *cmd,
			    size_t *index)
{
	static const char *const opts[] = {
		"--to-command", "--use-compress-program", "--checkpoint-action",
		"--info-script", "--new-volume-script", "--rsh-command",
		"--rmt-command", "-I", "-F",
	};
	const char *w;
	size_t i, k;

	for (i = 1; (w = word(cmd, i)); i++) {
		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
			if (is_opt(w, opts[k]) ||
			    (opts[k][1] != '-' && strncmp(w, opts[k], 2) == 0)) {
				*index = i;
				return "this tar option runs another program; it needs a rule that spells it out";
			}
		}
	}
	return NULL;
}

static const char *rg_risk(const struct policy_simple_command *cmd,
			   size_t *index)
{
	const char *w;
	size_t i;

	for (i = 1; (w = word(cmd, i)); i++) {
		if (is_opt(w, "--pre")) {
			*index = i;
			return "rg --pre runs a program on every file; it needs a rule that spells out --pre";
		}
	}
	return NULL;
}

/*
 * awk's program text can run commands through system() and pipes, and
 * write files with "print > file". "-f" hides the program altogether.
 */
static const char *awk_risk(const struct policy_simple_command *cmd,
			    size_t *index)
{
	const char *w, *gt;
	size_t i;

	for (i = 1; (w = word(cmd, i)); i++) {
		*index = i;
		if (strcmp(w, "-f") == 0 || is_opt(w, "--file"))
			return "awk -f reads its program from a file that is not judged; it needs a rule that spells out -f";
		if (strcmp(w, "-F") == 0 || strcmp(w, "-v") == 0) {
			i++;
			continue;
		}
		if (w[0] == '-')
			continue;
		gt = strchr(w, '>');
		while (gt && (gt[1] == ' ' || gt[1] == '>'))
			gt++;
		if (strstr(w, "system") || strchr(w, '|') ||
		    (gt && gt[1] == '"'))
			return "the awk program runs commands (system, |) or writes files (>); it needs a rule that spells it out";
		return NULL;	/* only the first operand is the program */
	}
	return NULL;
}

static bool git_takes_value(const char *w)
{
	return strcmp(w, "-C") == 0 || strcmp(w, "--git-dir") == 0 ||
	       strcmp(w, "--work-tree") == 0 || strcmp(w, "--namespace") == 0;
}

static const char *git_risk(const struct policy_simple_command *cmd,
			    size_t *index)
{
	static const char *const after[] = {
		"--output", "--ext-diff", "--upload-pack", "--receive-pack",
		"--exec", "--open-files-in-pager", "--textconv", "--tool",
		"--extcmd",
	};
	static const char *const subcommands[] = {
		"difftool", "mergetool", "filter-branch", "filter-repo",
		"submodule", "bisect", "config", "daemon", "instaweb",
		"credential",
	};
	const char *w;
	size_t i, k;
	bool sub = false;

	for (i = 1; (w = word(cmd, i)); i++) {
		*index = i;
		if (!sub && (strncmp(w, "-c", 2) == 0 ||
			     is_opt(w, "--config-env") ||
			     is_opt(w, "--exec-path")))
			return "git -c and --config-env can set core.pager, core.sshCommand and other settings that run programs; it needs a rule that spells the option out";
		if (!sub && git_takes_value(w)) {
			i++;
			continue;
		}
		if (!sub && w[0] != '-') {
			sub = true;
			for (k = 0; k < sizeof(subcommands) / sizeof(subcommands[0]); k++) {
				if (strcmp(w, subcommands[k]) == 0)
					return "this git subcommand runs other programs or changes git's configuration; it needs a rule that spells it out";
			}
			continue;
		}
		for (k = 0; sub && k < sizeof(after) / sizeof(after[0]); k++) {
			if (is_opt(w, after[k]))
				return "this git option writes a file or runs another program; it needs a rule that spells it out";
		}
		if (sub && (strcmp(w, "-x") == 0 || strcmp(w, "-O") == 0 ||
			    strncmp(w, "-O", 2) == 0))
			return "this git option runs another program; it needs a rule that spells it out";
	}
	return NULL;
}

static const char *git_target(const struct policy_simple_command *cmd,
			      size_t k)
{
	const char *w;
	size_t i;

	for (i = 1; (w = word(cmd, i)); i++) {
		if (strncmp(w, "--output=", 9) == 0 && k-- == 0)
			return w + 9;
		if (strcmp(w, "--output") == 0 && word(cmd, i + 1) && k-- == 0)
			return word(cmd, i + 1);
	}
	return NULL;
}

static const char *watch_risk(const struct policy_simple_command *cmd,
			      size_t *index)
{
	(void)cmd;
	*index = 0;
	return "watch runs its arguments through sh -c; it needs a rule of its own";
}

/* ---------- wrappers: programs that run the command in their words ---------- */

struct wrapper {
	const char *name;
	const char *short_args;	/* short options that take a value */
	const char *long_args;	/* long options that take a value, " "-separated */
	int operands;		/* words before the command, e.g. timeout's duration */
	bool assignments;	/* NAME=value words before the command (env) */
	bool stop_at_v;		/* "command -v" only prints, runs nothing */
};

static const struct wrapper wrappers[] = {
	{ "env", "uCS", "--unset --chdir --split-string", 0, true, false },
	{ "nice", "n", "--adjustment", 0, false, false },
	{ "timeout", "sk", "--signal --kill-after", 1, false, false },
	{ "nohup", "", "", 0, false, false },
	{ "xargs", "IinPLlsdEea", "--arg-file --delimiter --max-args --max-procs --replace --max-lines --max-chars --eof --process-slot-var", 0, false, false },
	{ "stdbuf", "ioe", "--input --output --error", 0, false, false },
	{ "setsid", "", "", 0, false, false },
	{ "ionice", "cnp", "--class --classdata --pid", 0, false, false },
	{ "chrt", "", "", 1, false, false },
	{ "taskset", "", "", 1, false, false },
	{ "time", "fo", "--format --output", 0, false, false },
	{ "command", "", "", 0, false, true },
	{ "builtin", "", "", 0, false, false },
	{ "sudo", "ugCDhpRrTU", "--user --group --chdir --host --prompt --chroot --role --type --other-user --close-from", 0, true, false },
	{ "doas", "uC", "", 0, false, false },
	{ "strace", "oepsIEuabSXP", "--output", 0, false, false },
	{ "ltrace", "oepsnSaAL", "--output", 0, false, false },
	{ "watch", "nd", "--interval --differences", 0, false, false },
	{ "flock", "wEc", "--timeout --conflict-exit-code", 1, false, false },
	{ "unbuffer", "", "", 0, false, false },
};

static bool in_spaced_list(const char *list, const char *w, size_t n)
{
	const char *p = list;

	while ((p = strstr(p, w))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
		p++;
	}
	return false;
}

/* Does option word w take the next word as its value? */
static bool takes_value(const struct wrapper *wr, const char *w)
{
	size_t n;

	if (w[1] == '-') {
		if (strchr(w, '='))
			return false;
		n = strlen(w);
		return in_spaced_list(wr->long_args, w, n);
	}
	/* "-n" takes the next word; "-n5" carries its value. */
	return w[2] == '\0' && strchr(wr->short_args, w[1]) != NULL;
}

static bool is_assignment_word(const char *w)
{
	size_t n = strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");

	return n > 0 && w[n] == '=' && !(w[0] >= '0' && w[0] <= '9');
}

static bool wrapper_wrapped(const struct wrapper *wr,
			    const struct policy_simple_command *cmd,
			    size_t *from, size_t *start)
{
	size_t i = 1;
	int operands = wr->operands;
	const char *w;

	if (*from > 0)
		return false;
	*from = cmd->nwords;
	while ((w = word(cmd, i))) {
		if (strcmp(w, "--") == 0) {
			i++;
			break;
		}
		if (w[0] == '-' && w[1]) {
			if (wr->stop_at_v && (strcmp(w, "-v") == 0 ||
					      strcmp(w, "-V") == 0))
				return false;
			i += takes_value(wr, w) ? 2 : 1;
			continue;
		}
		if (wr->assignments && is_assignment_word(w)) {
			i++;
			continue;
		}
		break;
	}
	while (operands-- > 0 && i < cmd->nwords)
		i++;
	if (i >= cmd->nwords)
		return false;
	*start = i;
	return true;
}

static const struct wrapper *find_wrapper(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(wrappers) / sizeof(wrappers[0]); i++) {
		if (strcmp(name, wrappers[i].name) == 0)
			return &wrappers[i];
	}
	return NULL;
}

/* ---------- the table ---------- */

static const struct {
	const char *name;
	const char *(*risk)(const struct policy_simple_command *, size_t *);
	const char *(*target)(const struct policy_simple_command *, size_t);
} programs[] = {
	{ "find", find_risk, find_target },
	{ "sed", sed_risk, NULL },
	{ "gsed", sed_risk, NULL },
	{ "sort", sort_risk, sort_target },
	{ "tar", tar_risk, NULL },
	{ "gtar", tar_risk, NULL },
	{ "rg", rg_risk, NULL },
	{ "awk", awk_risk, NULL },
	{ "gawk", awk_risk, NULL },
	{ "mawk", awk_risk, NULL },
	{ "nawk", awk_risk, NULL },
	{ "busybox", NULL, NULL },
	{ "git", git_risk, git_target },
	{ "watch", watch_risk, NULL },
};

#define NPROGRAMS (sizeof(programs) / sizeof(programs[0]))

static int program_index(const struct policy_simple_command *cmd)
{
	const char *name;
	size_t i;

	if (cmd->nwords == 0)
		return -1;
	name = basename_of(cmd->words[0].text);
	for (i = 0; i < NPROGRAMS; i++) {
		if (strcmp(name, programs[i].name) == 0)
			return (int)i;
	}
	return -1;
}

const char *policy_program_risk(const struct policy_simple_command *cmd,
				size_t *index)
{
	int k = program_index(cmd);

	*index = 0;
	if (k < 0 || !programs[k].risk)
		return NULL;
	return programs[k].risk(cmd, index);
}

const char *policy_program_write_target(const struct policy_simple_command *cmd,
					size_t k)
{
	int i = program_index(cmd);

	if (i < 0 || !programs[i].target)
		return NULL;
	return programs[i].target(cmd, k);
}

bool policy_program_wrapped(const struct policy_simple_command *cmd,
			    size_t *from, size_t *start, size_t *end)
{
	const struct wrapper *wr;
	const char *name;

	if (cmd->nwords == 0 || *from >= cmd->nwords)
		return false;
	name = basename_of(cmd->words[0].text);
	if (strcmp(name, "find") == 0)
		return find_wrapped(cmd, from, start, end);
	wr = find_wrapper(name);
	if (!wr || !wrapper_wrapped(wr, cmd, from, start))
		return false;
	*end = cmd->nwords;
	return true;
}
