/*
 * A shell lexer that finds the simple commands in a command line.
 *
 * It follows the bash token rules as far as a policy needs them. It handles
 * the operators that separate commands (";", "&&", "||", "|", "|&", "&",
 * newline, "(" and ")"), single and double quotes, $'...' escapes,
 * backslash escapes, line continuations and comments. It knows
 * redirections with an optional file descriptor number, and here-documents,
 * whose bodies are skipped but searched for substitutions when the
 * delimiter is unquoted. The contents of "$(...)", "`...`", "<(...)" and
 * ">(...)" are lexed as further commands, so that a deny rule still
 * applies to them; "$((...))" and "((...))" are arithmetic, and "[[ ... ]]"
 * a test, whose words run no program.
 *
 * It does not parse compound commands fully. Reserved words that come
 * before a command ("if", "then", "do", "!", "{", ...) are dropped so that
 * the command after them is judged, and "for NAME in WORDS" becomes a
 * command of its own kind that runs no program. "case", "select",
 * "function", "coproc" and function definitions are noted as unjudged.
 * Whenever the lexer meets something whose effect it cannot see, it
 * records the reason in list->unjudged and carries on.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

/* Substitutions nested deeper than this are not lexed any further. */
#define NEST_MAX 16

/* Here-documents per line whose bodies are skipped; later ones are lexed. */
#define HEREDOC_MAX 8

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
};

struct heredoc {
	char *delim;
	bool strip_tabs;	/* "<<-" strips leading tabs from body lines */
	bool expand;		/* unquoted delimiter: the body is expanded */
};

struct lexer {
	const char *s;
	size_t len;
	size_t i;
	int depth;
	bool oom;
	struct policy_command_list *list;

	/* The simple command being built. */
	struct policy_simple_command cmd;
	size_t words_cap, assigns_cap, redirs_cap;

	/* The word being built. */
	struct strbuf word;
	bool in_word;		/* a word has begun, perhaps empty as in '' */
	bool dynamic;
	bool literal;		/* so far only unquoted plain characters */
	size_t literal_len;	/* length of that plain start once it ended */
	bool last_plain;	/* the word just ended had no quoting */
	bool in_test;		/* between "[[" and "]]" */

	/* A redirection operator waiting for its target word. */
	bool redir_pending;
	bool redir_dup;		/* ">&" or "<&": a number or "-" duplicates */
	bool redir_reads, redir_writes;
	enum policy_redir_kind redir_kind;

	struct heredoc heredocs[HEREDOC_MAX];
	size_t nheredocs;
	bool heredoc_strip_tabs;
};

static void lex_run(struct lexer *lx);
static void scan_substitutions(struct lexer *lx, size_t start, size_t end);

static void note(struct lexer *lx, const char *reason)
{
	if (!lx->list->unjudged)
		lx->list->unjudged = reason;
}

static int grow(void **array, size_t *cap, size_t count, size_t size)
{
	size_t want;
	void *grown;

	if (count < *cap)
		return 0;
	want = *cap ? *cap * 2 : 4;
	grown = realloc(*array, want * size);
	if (!grown)
		return -1;
	*array = grown;
	*cap = want;
	return 0;
}

static void put(struct lexer *lx, char c)
{
	struct strbuf *b = &lx->word;

	lx->in_word = true;
	if (lx->oom)
		return;
	if (grow((void **)&b->buf, &b->cap, b->len + 1, 1) < 0) {
		lx->oom = true;
		return;
	}
	b->buf[b->len++] = c;
}

/* Mark the end of the word's plain start: a quote, escape or expansion. */
static void unliteral(struct lexer *lx)
{
	if (lx->literal)
		lx->literal_len = lx->word.len;
	lx->literal = false;
}

static void put_span(struct lexer *lx, size_t start, size_t end)
{
	while (start < end)
		put(lx, lx->s[start++]);
}

static void word_free(struct policy_word *w)
{
	free(w->text);
	w->text = NULL;
}

static void command_free(struct policy_simple_command *cmd)
{
	size_t i;

	for (i = 0; i < cmd->nwords; i++)
		word_free(&cmd->words[i]);
	for (i = 0; i < cmd->nassigns; i++)
		word_free(&cmd->assigns[i]);
	for (i = 0; i < cmd->nredirs; i++)
		word_free(&cmd->redirs[i].target);
	free(cmd->words);
	free(cmd->assigns);
	free(cmd->redirs);
	memset(cmd, 0, sizeof(*cmd));
}

void policy_command_list_free(struct policy_command_list *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		command_free(&list->cmds[i]);
	free(list->cmds);
	memset(list, 0, sizeof(*list));
}

/* NAME=value with NAME and "=" unquoted makes a word an assignment. */
static bool is_assignment(const char *text, size_t literal_len)
{
	size_t n = 0;

	if (!(text[0] == '_' || (text[0] >= 'A' && text[0] <= 'Z') ||
	      (text[0] >= 'a' && text[0] <= 'z')))
		return false;
	while (text[n] == '_' || (text[n] >= 'A' && text[n] <= 'Z') ||
	       (text[n] >= 'a' && text[n] <= 'z') ||
	       (text[n] >= '0' && text[n] <= '9'))
		n++;
	if (text[n] == '+')
		n++;
	return text[n] == '=' && n < literal_len;
}

/*
 * Reserved words that may come before a command ("if curl x; then ...")
 * or end a compound command. Dropping them lets rules see the command.
 */
static bool is_reserved_word(const char *w)
{
	static const char *const reserved[] = {
		"!", "{", "}", "if", "then", "elif", "else", "fi", "do",
		"done", "while", "until", "time", "esac",
	};
	size_t i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (strcmp(w, reserved[i]) == 0)
			return true;
	}
	return false;
}

static bool is_fd_dup_target(const char *t)
{
	size_t n = strspn(t, "0123456789");

	if (t[n] == '-')
		n++;
	return n > 0 && t[n] == '\0';
}

/*
 * Handle a plain first word that opens a construct. "[[" and "for" make
 * commands of their own kind, and the constructs this lexer does not parse
 * are noted.
 */
static void note_compound(struct lexer *lx, const char *w)
{
	if (strcmp(w, "[[") == 0) {
		lx->cmd.kind = POLICY_CMD_TEST;
		lx->in_test = true;
	} else if (strcmp(w, "for") == 0) {
		lx->cmd.kind = POLICY_CMD_FOR;
	} else if (strcmp(w, "case") == 0 || strcmp(w, "select") == 0 ||
		   strcmp(w, "function") == 0 || strcmp(w, "coproc") == 0) {
		note(lx, "case, select, function and coproc constructs are not parsed");
	}
}

static void add_heredoc(struct lexer *lx, const char *delim)
{
	struct heredoc *h;

	if (lx->nheredocs == HEREDOC_MAX)
		return;
	h = &lx->heredocs[lx->nheredocs];
	h->delim = strdup(delim);
	if (!h->delim) {
		lx->oom = true;
		return;
	}
	h->strip_tabs = lx->heredoc_strip_tabs;
	h->expand = lx->last_plain;
	lx->nheredocs++;
}

static void add_redirect(struct lexer *lx, struct policy_word w)
{
	struct policy_simple_command *cmd = &lx->cmd;
	struct policy_redir *r;

	if (grow((void **)&cmd->redirs, &lx->redirs_cap, cmd->nredirs,
		 sizeof(*cmd->redirs)) < 0) {
		lx->oom = true;
		word_free(&w);
		return;
	}
	r = &cmd->redirs[cmd->nredirs++];
	r->kind = lx->redir_kind;
	r->reads = lx->redir_reads;
	r->writes = lx->redir_writes;
	if (lx->redir_dup && is_fd_dup_target(w.text)) {
		r->kind = POLICY_REDIR_DUP;	/* but ">&name" writes to name */
		r->reads = r->writes = false;
	}
	if (r->kind != POLICY_REDIR_FILE)
		r->reads = r->writes = false;
	r->target = w;
	if (r->kind == POLICY_REDIR_HEREDOC)
		add_heredoc(lx, w.text);
	lx->redir_pending = false;
}

static void add_word(struct lexer *lx, struct policy_word w, bool assign)
{
	struct policy_simple_command *cmd = &lx->cmd;
	struct policy_word **array = assign ? &cmd->assigns : &cmd->words;
	size_t *count = assign ? &cmd->nassigns : &cmd->nwords;
	size_t *cap = assign ? &lx->assigns_cap : &lx->words_cap;

	if (grow((void **)array, cap, *count, sizeof(**array)) < 0) {
		lx->oom = true;
		word_free(&w);
		return;
	}
	(*array)[(*count)++] = w;
}

static void end_word(struct lexer *lx)
{
	struct policy_word w;
	size_t literal_len = lx->literal ? lx->word.len : lx->literal_len;

	if (!lx->in_word)
		return;
	lx->in_word = false;
	w.dynamic = lx->dynamic;
	w.text = lx->oom ? NULL : strndup(lx->word.buf ? lx->word.buf : "",
					   lx->word.len);
	lx->last_plain = lx->literal;
	lx->word.len = 0;
	lx->dynamic = false;
	lx->literal = true;
	lx->literal_len = 0;
	if (!w.text) {
		lx->oom = true;
		return;
	}

	if (lx->redir_pending) {
		add_redirect(lx, w);
		return;
	}
	if (lx->cmd.nwords == 0 && lx->last_plain)
		note_compound(lx, w.text);
	if (lx->in_test && lx->last_plain && strcmp(w.text, "]]") == 0)
		lx->in_test = false;
	if (lx->cmd.nwords == 0 && lx->last_plain && lx->cmd.kind ==
	    POLICY_CMD_SIMPLE && is_reserved_word(w.text))
		word_free(&w);
	else if (lx->cmd.nwords == 0 && is_assignment(w.text, literal_len))
		add_word(lx, w, true);
	else
		add_word(lx, w, false);
}

static void end_command(struct lexer *lx)
{
	struct policy_command_list *list = lx->list;
	struct policy_simple_command *cmd = &lx->cmd;

	end_word(lx);
	if (lx->redir_pending) {
		note(lx, "a redirection without a target cannot be judged");
		lx->redir_pending = false;
	}
	if (lx->in_test) {
		note(lx, "a [[ test without its closing ]] cannot be judged");
		lx->in_test = false;
	}
	if (cmd->nwords == 0 && cmd->nassigns == 0 && cmd->nredirs == 0) {
		cmd->kind = POLICY_CMD_SIMPLE;
		return;
	}

	if (grow((void **)&list->cmds, &list->cap, list->count,
		 sizeof(*list->cmds)) < 0) {
		lx->oom = true;
		command_free(cmd);
	} else {
		list->cmds[list->count++] = *cmd;
		memset(cmd, 0, sizeof(*cmd));
	}
	lx->words_cap = lx->assigns_cap = lx->redirs_cap = 0;
}

/* Skip the bodies of the here-documents begun on the line just ended. */
static void skip_heredocs(struct lexer *lx)
{
	size_t k, eol, start;

	for (k = 0; k < lx->nheredocs; k++) {
		struct heredoc *h = &lx->heredocs[k];

		while (lx->i < lx->len) {
			start = lx->i;
			eol = start;
			while (eol < lx->len && lx->s[eol] != '\n')
				eol++;
			lx->i = eol < lx->len ? eol + 1 : eol;
			while (h->strip_tabs && start < eol &&
			       lx->s[start] == '\t')
				start++;
			if (eol - start == strlen(h->delim) &&
			    memcmp(lx->s + start, h->delim, eol - start) == 0)
				break;
			/* An unquoted delimiter lets $(...) in the body run. */
			if (h->expand)
				scan_substitutions(lx, start, eol);
		}
		free(h->delim);
		h->delim = NULL;
	}
	lx->nheredocs = 0;
}

/* Index of the ")" closing the "(" just before from, or len if none. */
static size_t find_close_paren(const char *s, size_t len, size_t from)
{
	size_t i = from;
	int depth = 1;

	while (i < len) {
		char c = s[i++];

		if (c == '\\') {
			i++;
		} else if (c == '\'') {
			while (i < len && s[i] != '\'')
				i++;
			i++;
		} else if (c == '"') {
			while (i < len && s[i] != '"')
				i += s[i] == '\\' ? 2 : 1;
			i++;
		} else if (c == '(') {
			depth++;
		} else if (c == ')' && --depth == 0) {
			return i - 1;
		}
	}
	return len;
}

/* Index of the "`" closing the one just before from, or len if none. */
static size_t find_close_backquote(const char *s, size_t len, size_t from)
{
	size_t i = from;

	while (i < len && s[i] != '`')
		i += s[i] == '\\' ? 2 : 1;
	return i < len ? i : len;
}

/* Lex s[start, end) as commands of their own, one level deeper. */
static void lex_nested(struct lexer *lx, size_t start, size_t end)
{
	struct lexer inner;
	size_t k;

	if (lx->depth >= NEST_MAX) {
		note(lx, "substitutions nested this deep cannot be judged");
		return;
	}
	memset(&inner, 0, sizeof(inner));
	inner.s = lx->s + start;
	inner.len = end - start;
	inner.depth = lx->depth + 1;
	inner.list = lx->list;
	inner.literal = true;
	lex_run(&inner);

	for (k = 0; k < inner.nheredocs; k++)
		free(inner.heredocs[k].delim);
	free(inner.word.buf);
	command_free(&inner.cmd);
	if (inner.oom)
		lx->oom = true;
}

/*
 * Find the command substitutions in s[start, end), text that is expanded
 * but not split into commands (arithmetic, here-document bodies), and lex
 * their bodies as commands.
 */
static void scan_substitutions(struct lexer *lx, size_t start, size_t end)
{
	size_t k = start, close;

	while (k < end) {
		if (lx->s[k] == '\\') {
			k += 2;
		} else if (lx->s[k] == '$' && k + 1 < end &&
			   lx->s[k + 1] == '(' &&
			   !(k + 2 < end && lx->s[k + 2] == '(')) {
			close = find_close_paren(lx->s, end, k + 2);
			note(lx, "command substitution cannot be judged statically");
			lex_nested(lx, k + 2, close);
			k = close + 1;
		} else if (lx->s[k] == '`') {
			close = find_close_backquote(lx->s, end, k + 1);
			note(lx, "command substitution cannot be judged statically");
			lex_nested(lx, k + 1, close);
			k = close + 1;
		} else {
			k++;
		}
	}
}

/*
 * The index of the "))" that ends arithmetic whose body starts at from,
 * or len when the parentheses do not close that way (then "((" was two
 * subshells, or "$((" a command substitution of a subshell).
 */
static size_t find_close_arith(const char *s, size_t len, size_t from)
{
	size_t i;
	int depth = 0;

	for (i = from; i < len; i++) {
		if (s[i] == '(') {
			depth++;
		} else if (s[i] == ')') {
			if (depth == 0)
				return i + 1 < len && s[i + 1] == ')' ? i : len;
			depth--;
		} else if (s[i] == ';' || s[i] == '\n' || s[i] == '\'' ||
			   s[i] == '"') {
			return len;	/* not arithmetic as agents write it */
		}
	}
	return len;
}

/* "$((expr))": the word's value is unknown; substitutions inside run. */
static bool lex_arith_expansion(struct lexer *lx)
{
	size_t close = find_close_arith(lx->s, lx->len, lx->i + 3);

	if (close == lx->len)
		return false;
	unliteral(lx);
	scan_substitutions(lx, lx->i + 3, close);
	put_span(lx, lx->i, close + 2);
	lx->dynamic = true;
	lx->i = close + 2;
	return true;
}

/* "((expr))" as a command: arithmetic that runs no program. */
static bool lex_arith_command(struct lexer *lx)
{
	size_t close = find_close_arith(lx->s, lx->len, lx->i + 2);

	if (close == lx->len)
		return false;
	end_command(lx);
	scan_substitutions(lx, lx->i + 2, close);
	lx->cmd.kind = POLICY_CMD_ARITH;
	put_span(lx, lx->i, close + 2);
	lx->dynamic = true;
	lx->literal = false;
	lx->i = close + 2;
	end_word(lx);
	return true;
}

/*
 * A substitution whose body runs from body to close: the body is lexed
 * as commands, and the word keeps the raw text, marked dynamic.
 */
static void substitution(struct lexer *lx, size_t start, size_t body,
			 size_t close, size_t closelen, const char *reason)
{
	if (close == lx->len)
		note(lx, "an unterminated substitution cannot be judged");
	note(lx, reason);
	unliteral(lx);
	lex_nested(lx, body, close);

	lx->i = close + (close < lx->len ? closelen : 0);
	put_span(lx, start, lx->i);
	lx->dynamic = true;
}

static void lex_backquote(struct lexer *lx)
{
	size_t close = find_close_backquote(lx->s, lx->len, lx->i + 1);

	substitution(lx, lx->i, lx->i + 1, close, 1,
		     "command substitution cannot be judged statically");
}

/* "${...}": the body is not lexed, but a substitution inside it is noted. */
static void lex_braced_parameter(struct lexer *lx)
{
	size_t start = lx->i, i = lx->i + 2;
	int depth = 1;

	unliteral(lx);
	while (i < lx->len && depth > 0) {
		if (lx->s[i] == '\\')
			i++;
		else if (lx->s[i] == '{')
			depth++;
		else if (lx->s[i] == '}')
			depth--;
		else if (lx->s[i] == '`' ||
			 (lx->s[i] == '$' && i + 1 < lx->len &&
			  lx->s[i + 1] == '('))
			note(lx, "command substitution cannot be judged statically");
		i++;
	}
	if (depth > 0)
		note(lx, "an unterminated parameter expansion cannot be judged");
	lx->i = i < lx->len ? i : lx->len;
	put_span(lx, start, lx->i);
	lx->dynamic = true;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode one escape of $'...' at s[i] (just after the backslash) into the
 * word. Returns the index after it. Escapes whose value this lexer does
 * not compute (\cX, \u, \U) keep their text and make the word dynamic.
 */
static size_t ansi_c_escape(struct lexer *lx, size_t i)
{
	static const char from[] = "abeEfnrtv\\'\"?";
	static const char to[] = "\a\b\033\033\f\n\r\t\v\\'\"?";
	const char *hit = strchr(from, lx->s[i]);
	int value = 0, digits = 0, d;

	if (hit && *hit) {
		put(lx, to[hit - from]);
		return i + 1;
	}
	if (lx->s[i] >= '0' && lx->s[i] <= '7') {
		while (digits < 3 && i < lx->len && lx->s[i] >= '0' &&
		       lx->s[i] <= '7') {
			value = value * 8 + (lx->s[i++] - '0');
			digits++;
		}
		put(lx, (char)value);
		return i;
	}
	if (lx->s[i] == 'x' && i + 1 < lx->len && hex_value(lx->s[i + 1]) >= 0) {
		i++;
		while (digits < 2 && i < lx->len &&
		       (d = hex_value(lx->s[i])) >= 0) {
			value = value * 16 + d;
			i++;
			digits++;
		}
		put(lx, (char)value);
		return i;
	}
	lx->dynamic = true;
	put(lx, '\\');
	put(lx, lx->s[i]);
	return i + 1;
}

/* $'...': the escapes are decoded, so "$'\x63url'" reads as "curl". */
static void lex_ansi_c_quote(struct lexer *lx)
{
	size_t i = lx->i + 2;

	unliteral(lx);
	lx->in_word = true;
	while (i < lx->len && lx->s[i] != '\'') {
		if (lx->s[i] == '\\' && i + 1 < lx->len)
			i = ansi_c_escape(lx, i + 1);
		else
			put(lx, lx->s[i++]);
	}
	if (i >= lx->len)
		note(lx, "an unterminated quote cannot be judged");
	lx->i = i < lx->len ? i + 1 : lx->len;
}

static bool is_parameter_char(char c)
{
	return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || strchr("@*#?$!-", c);
}

/* A "$" unquoted or inside double quotes (in_dquote). */
static void lex_dollar(struct lexer *lx, bool in_dquote)
{
	char next = lx->i + 1 < lx->len ? lx->s[lx->i + 1] : '\0';
	size_t close;

	if (next == '(' && lx->i + 2 < lx->len && lx->s[lx->i + 2] == '(' &&
	    lex_arith_expansion(lx)) {
		return;
	} else if (next == '(') {
		close = find_close_paren(lx->s, lx->len, lx->i + 2);
		substitution(lx, lx->i, lx->i + 2, close, 1,
			     "command substitution cannot be judged statically");
	} else if (next == '{') {
		lex_braced_parameter(lx);
	} else if (next == '\'' && !in_dquote) {
		lex_ansi_c_quote(lx);
	} else if (next != '\0' && is_parameter_char(next)) {
		unliteral(lx);
		put(lx, '$');
		lx->i++;
		lx->dynamic = true;
	} else if (next == '"' && !in_dquote) {
		lx->i++;	/* $"..." is "..." translated, which we ignore */
	} else {
		put(lx, '$');	/* a lone "$" is literal */
		lx->i++;
	}
}

static void lex_single_quote(struct lexer *lx)
{
	size_t i = lx->i + 1;

	unliteral(lx);
	lx->in_word = true;
	while (i < lx->len && lx->s[i] != '\'')
		put(lx, lx->s[i++]);
	if (i == lx->len)
		note(lx, "an unterminated quote cannot be judged");
	lx->i = i < lx->len ? i + 1 : lx->len;
}

static void lex_double_quote(struct lexer *lx)
{
	char c, next;

	unliteral(lx);
	lx->in_word = true;
	lx->i++;
	while (lx->i < lx->len && lx->s[lx->i] != '"') {
		c = lx->s[lx->i];
		next = lx->i + 1 < lx->len ? lx->s[lx->i + 1] : '\0';
		if (c == '\\' && next == '\n') {
			lx->i += 2;
		} else if (c == '\\' && next && strchr("$`\"\\", next)) {
			put(lx, next);
			lx->i += 2;
		} else if (c == '$') {
			lex_dollar(lx, true);
		} else if (c == '`') {
			lex_backquote(lx);
		} else {
			put(lx, c);
			lx->i++;
		}
	}
	if (lx->i == lx->len)
		note(lx, "an unterminated quote cannot be judged");
	else
		lx->i++;
}

static void lex_backslash(struct lexer *lx)
{
	if (lx->i + 1 == lx->len) {
		put(lx, '\\');
		lx->i++;
		return;
	}
	if (lx->s[lx->i + 1] != '\n') {
		unliteral(lx);
		put(lx, lx->s[lx->i + 1]);
	}
	lx->i += 2;	/* a backslash-newline joins lines */
}

static bool word_is_fd_number(const struct lexer *lx)
{
	size_t k;

	if (!lx->in_word || !lx->literal || lx->word.len == 0)
		return false;
	for (k = 0; k < lx->word.len; k++) {
		if (lx->word.buf[k] < '0' || lx->word.buf[k] > '9')
			return false;
	}
	return true;
}

/* The operator length and kind of the redirection at s[i]. */
static size_t redirect_operator(const char *s, size_t len, size_t i,
				enum policy_redir_kind *kind, bool *dup,
				bool *strip_tabs, bool *reads, bool *writes)
{
	char c0 = s[i];
	char c1 = i + 1 < len ? s[i + 1] : '\0';
	char c2 = i + 2 < len ? s[i + 2] : '\0';

	*kind = POLICY_REDIR_FILE;
	*dup = false;
	*strip_tabs = false;
	*reads = c0 == '<' && c1 != '<';
	*writes = c0 != '<' || c1 == '>';
	if (c0 == '&')
		return c2 == '>' ? 3 : 2;	/* &> or &>> */
	if (c0 == '<' && c1 == '<') {
		if (c2 == '<') {
			*kind = POLICY_REDIR_HERESTRING;
			return 3;
		}
		*kind = POLICY_REDIR_HEREDOC;
		*strip_tabs = c2 == '-';
		return c2 == '-' ? 3 : 2;
	}
	if (c1 == '&') {
		*dup = true;
		return 2;	/* >& or <& */
	}
	if ((c0 == '>' && (c1 == '>' || c1 == '|')) || (c0 == '<' && c1 == '>'))
		return 2;
	return 1;
}

static void lex_redirect(struct lexer *lx)
{
	size_t oplen;

	if (word_is_fd_number(lx)) {
		lx->word.len = 0;	/* "2>": the digits name a descriptor */
		lx->in_word = false;
	} else {
		end_word(lx);
	}
	if (lx->redir_pending)
		note(lx, "a redirection without a target cannot be judged");

	oplen = redirect_operator(lx->s, lx->len, lx->i, &lx->redir_kind,
				  &lx->redir_dup, &lx->heredoc_strip_tabs,
				  &lx->redir_reads, &lx->redir_writes);
	lx->redir_pending = true;
	lx->i += oplen;
}

/*
 * Inside "[[ ... ]]", "&&", "||", "<", ">", "(", ")" and "!" are words of
 * the test, not operators of the command line.
 */
static bool lex_test_operator(struct lexer *lx, char c, char next)
{
	if (c == '\n') {
		end_word(lx);
		lx->i++;
		return true;
	}
	if (!strchr("&|<>()", c))
		return false;
	end_word(lx);
	put(lx, c);
	lx->i++;
	if ((c == '&' || c == '|') && next == c) {
		put(lx, c);
		lx->i++;
	}
	end_word(lx);
	return true;
}

/* Handle an operator character; returns false if c is not one. */
static bool lex_operator(struct lexer *lx, char c, char next)
{
	if (lx->in_test && lex_test_operator(lx, c, next))
		return true;
	if (c == '(' && next == '(' && !lx->in_word && lx->cmd.nwords == 0 &&
	    lx->cmd.nassigns == 0 && lex_arith_command(lx))
		return true;
	if (c == '(' && next == ')')
		note(lx, "a function definition is not judged");
	if (c == ' ' || c == '\t') {
		end_word(lx);
		lx->i++;
	} else if (c == '\n') {
		end_command(lx);
		lx->i++;
		skip_heredocs(lx);
	} else if (c == ';' || c == '(' || c == ')') {
		end_command(lx);
		lx->i++;
	} else if ((c == '<' || c == '>') && next == '(') {
		substitution(lx, lx->i, lx->i + 2,
			     find_close_paren(lx->s, lx->len, lx->i + 2), 1,
			     "process substitution cannot be judged statically");
	} else if (c == '<' || c == '>' || (c == '&' && next == '>')) {
		lex_redirect(lx);
	} else if (c == '&' || c == '|') {
		end_command(lx);
		lx->i += (next == '&' || next == '|') ? 2 : 1;
	} else {
		return false;
	}
	return true;
}

/*
 * Does the "{" at lx->i start a brace expansion ("{a,b}", "{1..3}")? A
 * lone "{}", as find -exec takes it, is a literal word.
 */
static bool is_brace_expansion(const struct lexer *lx)
{
	size_t i;
	bool list = false;

	for (i = lx->i + 1; i < lx->len; i++) {
		char c = lx->s[i];

		if (c == '}')
			return list;
		if (c == ',' || (c == '.' && i + 1 < lx->len &&
				 lx->s[i + 1] == '.'))
			list = true;
		if (strchr(" \t\n;&|<>()", c))
			return false;
	}
	return false;
}

static void lex_run(struct lexer *lx)
{
	char c, next;

	while (lx->i < lx->len && !lx->oom) {
		c = lx->s[lx->i];
		next = lx->i + 1 < lx->len ? lx->s[lx->i + 1] : '\0';

		if (lex_operator(lx, c, next))
			continue;
		if (c == '\'') {
			lex_single_quote(lx);
		} else if (c == '"') {
			lex_double_quote(lx);
		} else if (c == '\\') {
			lex_backslash(lx);
		} else if (c == '$') {
			lex_dollar(lx, false);
		} else if (c == '`') {
			lex_backquote(lx);
		} else if (c == '#' && !lx->in_word) {
			while (lx->i < lx->len && lx->s[lx->i] != '\n')
				lx->i++;	/* a comment runs to the newline */
		} else {
			if (strchr("*?[", c) || (c == '~' && !lx->in_word) ||
			    (c == '{' && is_brace_expansion(lx)))
				lx->dynamic = true;
			put(lx, c);
			lx->i++;
		}
	}
	end_command(lx);
}

int policy_shell_split(const char *command, struct policy_command_list *list)
{
	struct lexer lx;
	size_t k;

	memset(list, 0, sizeof(*list));
	memset(&lx, 0, sizeof(lx));
	lx.s = command;
	lx.len = strlen(command);
	lx.list = list;
	lx.literal = true;
	lex_run(&lx);

	for (k = 0; k < lx.nheredocs; k++)
		free(lx.heredocs[k].delim);
	free(lx.word.buf);
	command_free(&lx.cmd);
	if (lx.oom) {
		policy_command_list_free(list);
		return -1;
	}
	return 0;
}
