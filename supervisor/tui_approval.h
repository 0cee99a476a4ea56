/*
 * The approval prompt. It is built only from what the supervisor judged:
 * the command line it will run (split with the policy's shell lexer into
 * the argv of every simple command), the resolved path of a file action,
 * the diff of an edit. Every character outside printable ASCII is shown
 * with its code point (SANITIZE_STRICT), and a command is never cut.
 */
#ifndef COWORKER_TUI_APPROVAL_H
#define COWORKER_TUI_APPROVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "policy/policy.h"

/* Most diff lines an approval shows; the rest are counted. */
#define TUI_APPROVAL_DIFF_LINES 200

/* Maximum length of the message to the model read after "m", in bytes. */
#define TUI_APPROVAL_MESSAGE_MAX 2000

enum tui_action {
	TUI_ACTION_COMMAND,	/* subject: the command line */
	TUI_ACTION_READ,	/* subject: the resolved path */
	TUI_ACTION_LIST,	/* subject: the resolved directory */
	TUI_ACTION_WRITE,	/* subject: the resolved path; old and new text */
	TUI_ACTION_EDIT,	/* subject: the resolved path; old and new text */
	TUI_ACTION_NET,		/* subject: host:port */
	TUI_ACTION_SKILL,	/* subject: the skill name */
};

struct tui_approval_request {
	enum tui_action action;
	const char *subject;
	/*
	 * The subject as the policy names it, for the "always" rule: the
	 * workspace-relative path of a file action. NULL: subject.
	 */
	const char *rule_subject;
	/* Why the policy asks, e.g. from policy_verdict_sentence; or NULL. */
	const char *reason;
	/*
	 * EDIT: the exact old and new strings. WRITE: the file's current
	 * content (old_text NULL for a new file) and the content to write.
	 */
	const char *old_text;
	size_t old_len;
	const char *new_text;
	size_t new_len;
};

enum tui_answer {
	TUI_ANSWER_ONCE,	/* y: run this request */
	TUI_ANSWER_SESSION,	/* s: and the exact same action again this session */
	TUI_ANSWER_ALWAYS,	/* a: and save rules so that it is allowed from now on */
	TUI_ANSWER_DENY,	/* n, Ctrl-C, Ctrl-D or end of input */
	TUI_ANSWER_DENY_MESSAGE,	/* m: deny, and tell the model why */
};

struct tui_approval_answer {
	enum tui_answer answer;
	char *message;		/* DENY_MESSAGE: the user's text, raw */
	/*
	 * ALWAYS: the narrowest allow rules (policy_approval_rules), for
	 * the caller to save with policy_save_approval. NULL-terminated.
	 */
	char **rules;
};

/* Write the view of req (everything but the question) to out. */
void tui_approval_show(FILE *out, const struct tui_approval_request *req,
		       bool color);

/*
 * Show req, ask for an answer on in_fd until a known key comes, and fill
 * answer (free it with tui_approval_answer_free). "a" is accepted only
 * when the request can be written as rules; otherwise the prompt says why
 * and asks again. Returns 0, or -1 when memory runs out (answer is then
 * deny).
 */
int tui_approval_ask(int in_fd, FILE *out, bool color,
		     const struct tui_approval_request *req,
		     struct tui_approval_answer *answer);

void tui_approval_answer_free(struct tui_approval_answer *answer);

/* The policy tool an action is judged as, for policy_approval_rules. */
enum policy_tool tui_action_tool(enum tui_action action);

#endif
