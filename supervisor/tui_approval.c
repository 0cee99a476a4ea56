/*
 * The approval view and its answer loop.
 */
#include <stdlib.h>
#include <string.h>

#include "supervisor/sanitize.h"
#include "supervisor/tui_approval.h"
#include "supervisor/tui_diff.h"
#include "supervisor/tui_term.h"

#define BOLD "\033[1m"
#define YELLOW "\033[33m"
#define RESET "\033[0m"

static const char *const action_titles[] = {
	[TUI_ACTION_COMMAND] = "run a command",
	[TUI_ACTION_READ] = "read a file",
	[TUI_ACTION_LIST] = "list a directory",
	[TUI_ACTION_WRITE] = "write a file",
	[TUI_ACTION_EDIT] = "edit a file",
	[TUI_ACTION_NET] = "connect to",
	[TUI_ACTION_SKILL] = "load the skill",
};

enum policy_tool tui_action_tool(enum tui_action action)
{
	switch (action) {
	case TUI_ACTION_COMMAND:
		return POLICY_EXEC;
	case TUI_ACTION_WRITE:
	case TUI_ACTION_EDIT:
		return POLICY_WRITE;
	case TUI_ACTION_NET:
		return POLICY_NET;
	case TUI_ACTION_SKILL:
		return POLICY_SKILL;
	case TUI_ACTION_READ:
	case TUI_ACTION_LIST:
	default:
		return POLICY_READ;
	}
}

static void emit_file(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, ctx);
}

static void write_strict(FILE *out, const char *text)
{
	sanitize_text(text, strlen(text), SANITIZE_STRICT, emit_file, out);
}

/* Write a word in double quotes, with '"' escaped so words stay apart. */
static void write_word(FILE *out, const struct policy_word *w)
{
	const char *p = w->text, *q;

	fputc('"', out);
	while ((q = strchr(p, '"'))) {
		sanitize_text(p, (size_t)(q - p), SANITIZE_STRICT, emit_file, out);
		fputs("\\\"", out);
		p = q + 1;
	}
	write_strict(out, p);
	fputc('"', out);
	if (w->dynamic)
		fputs("(expands)", out);
}

static const char *redir_operator(const struct policy_redir *r)
{
	if (r->kind == POLICY_REDIR_HEREDOC)
		return "<<";
	if (r->kind == POLICY_REDIR_HERESTRING)
		return "<<<";
	if (r->kind == POLICY_REDIR_DUP)
		return ">&";
	if (r->reads && r->writes)
		return "<>";
	return r->writes ? ">" : "<";
}

static const char *command_label(enum policy_command_kind kind)
{
	switch (kind) {
	case POLICY_CMD_TEST:
		return "test";
	case POLICY_CMD_ARITH:
		return "arithmetic";
	case POLICY_CMD_FOR:
		return "for loop";
	case POLICY_CMD_SIMPLE:
	default:
		return "argv";
	}
}

static void show_simple_command(FILE *out, size_t index,
				const struct policy_simple_command *c)
{
	const char *unjudged = policy_command_unjudged(c);
	size_t i;

	fprintf(out, "  %zu. %s:", index + 1, command_label(c->kind));
	for (i = 0; i < c->nwords; i++) {
		fputc(' ', out);
		write_word(out, &c->words[i]);
	}
	fputc('\n', out);
	for (i = 0; i < c->nassigns; i++) {
		fputs("     sets ", out);
		write_word(out, &c->assigns[i]);
		fputc('\n', out);
	}
	for (i = 0; i < c->nredirs; i++) {
		fprintf(out, "     redirect %s ", redir_operator(&c->redirs[i]));
		write_word(out, &c->redirs[i].target);
		fputc('\n', out);
	}
	if (unjudged)
		fprintf(out, "     note: %s\n", unjudged);
}

/*
 * The full line first, never cut, then the argv of every simple command,
 * including those inside substitutions.
 */
static void show_command(FILE *out, const char *command)
{
	struct policy_command_list list;
	size_t i;

	fputs("  command: ", out);
	write_strict(out, command);
	fputc('\n', out);

	memset(&list, 0, sizeof(list));
	if (policy_shell_split(command, &list) < 0) {
		fputs("  (out of memory: the parts cannot be shown)\n", out);
		policy_command_list_free(&list);
		return;
	}
	for (i = 0; i < list.count; i++)
		show_simple_command(out, i, &list.cmds[i]);
	if (list.unjudged)
		fprintf(out, "  note: %s\n", list.unjudged);
	policy_command_list_free(&list);
}

static void show_change(FILE *out, const struct tui_approval_request *req,
			bool color)
{
	const char *old_text = req->old_text ? req->old_text : "";
	size_t old_len = req->old_text ? req->old_len : 0;

	if (req->action == TUI_ACTION_WRITE && !req->old_text)
		fputs("  (new file)\n", out);
	fputs("--- ", out);
	write_strict(out, req->subject);
	fputs("\n+++ ", out);
	write_strict(out, req->subject);
	fputc('\n', out);
	if (tui_diff_write(out, old_text, old_len,
			   req->new_text ? req->new_text : "", req->new_len,
			   TUI_APPROVAL_DIFF_LINES, color) < 0)
		fputs("(out of memory: the diff cannot be shown)\n", out);
}

void tui_approval_show(FILE *out, const struct tui_approval_request *req,
		       bool color)
{
	fprintf(out, "%sApproval needed:%s the agent wants to %s\n",
		color ? BOLD YELLOW : "", color ? RESET : "",
		action_titles[req->action]);
	if (req->reason) {
		fputs("  why: ", out);
		write_strict(out, req->reason);
		fputc('\n', out);
	}

	if (req->action == TUI_ACTION_COMMAND) {
		show_command(out, req->subject);
		return;
	}
	fprintf(out, "  %s: ", req->action == TUI_ACTION_NET ? "endpoint" :
		req->action == TUI_ACTION_SKILL ? "skill" : "path");
	write_strict(out, req->subject);
	fputc('\n', out);
	if (req->action == TUI_ACTION_WRITE || req->action == TUI_ACTION_EDIT)
		show_change(out, req, color);
}

static const char question[] =
	"Allow? [y] yes once  [s] yes for this session  [a] always  "
	"[n] no  [m] no, with a message: ";

/* Build the "always" rules, or explain why there are none. */
static bool make_rules(FILE *out, const struct tui_approval_request *req,
		       struct tui_approval_answer *answer)
{
	const char *subject = req->rule_subject ? req->rule_subject :
			      req->subject;
	char err[512];
	size_t i;

	if (policy_approval_rules(tui_action_tool(req->action), subject,
				  &answer->rules, err, sizeof(err)) < 0) {
		fputs("This cannot be saved as a rule: ", out);
		write_strict(out, err);
		fputs(". Answer y or s to allow it without a rule.\n", out);
		return false;
	}
	for (i = 0; answer->rules[i]; i++) {
		fputs("  saving allow rule ", out);
		write_strict(out, answer->rules[i]);
		fputc('\n', out);
	}
	return true;
}

static int read_message(int in_fd, FILE *out,
			struct tui_approval_answer *answer)
{
	char buf[TUI_APPROVAL_MESSAGE_MAX + 1];
	ssize_t n;

	fputs("Message to the model: ", out);
	fflush(out);
	n = tui_term_read_line(in_fd, buf, sizeof(buf));
	if (n <= 0) {
		answer->answer = TUI_ANSWER_DENY;
		return 0;
	}
	answer->message = strdup(buf);
	if (!answer->message) {
		answer->answer = TUI_ANSWER_DENY;
		return -1;
	}
	answer->answer = TUI_ANSWER_DENY_MESSAGE;
	return 0;
}

/* Handle one key: 1 when answered, 0 to ask again, -1 out of memory. */
static int handle_key(int key, int in_fd, FILE *out,
		      const struct tui_approval_request *req,
		      struct tui_approval_answer *answer)
{
	char shown[16];

	switch (key) {
	case 'y': case 'Y':
		answer->answer = TUI_ANSWER_ONCE;
		return 1;
	case 's': case 'S':
		answer->answer = TUI_ANSWER_SESSION;
		return 1;
	case 'a': case 'A':
		answer->answer = TUI_ANSWER_ALWAYS;
		return make_rules(out, req, answer) ? 1 : 0;
	case 'm': case 'M':
		return read_message(in_fd, out, answer) < 0 ? -1 : 1;
	case 'n': case 'N': case -1: case TUI_KEY_CTRL_C: case TUI_KEY_CTRL_D:
		answer->answer = TUI_ANSWER_DENY;
		return 1;
	default:
		shown[0] = (char)key;
		shown[1] = '\0';
		fputs("Unknown answer \"", out);
		write_strict(out, shown);
		fputs("\": type y, s, a, n or m.\n", out);
		return 0;
	}
}

int tui_approval_ask(int in_fd, FILE *out, bool color,
		     const struct tui_approval_request *req,
		     struct tui_approval_answer *answer)
{
	int key, rc;

	memset(answer, 0, sizeof(*answer));
	answer->answer = TUI_ANSWER_DENY;
	tui_approval_show(out, req, color);
	for (;;) {
		fputs(question, out);
		fflush(out);
		key = tui_term_read_key(in_fd);
		/* Echo the key, since the raw read does not. */
		if (key > 0x20 && key < 0x7f)
			fputc(key, out);
		fputc('\n', out);
		rc = handle_key(key, in_fd, out, req, answer);
		if (rc != 0)
			break;
	}
	fflush(out);
	return rc < 0 ? -1 : 0;
}

void tui_approval_answer_free(struct tui_approval_answer *answer)
{
	free(answer->message);
	policy_strv_free(answer->rules);
	answer->message = NULL;
	answer->rules = NULL;
}
