/*
 * The slash command table and its parser.
 */
#include <string.h>

#include "policy/policy.h"
#include "supervisor/tui_slash.h"

struct slash_entry {
	const char *name;
	enum tui_slash_command command;
	const char *usage;	/* the arguments, for /help and errors */
	const char *summary;
};

static const struct slash_entry slash_table[] = {
	{ "help", TUI_SLASH_HELP, "", "list these commands" },
	{ "config", TUI_SLASH_CONFIG, "[model NAME | mode MODE | provider NAME]",
	  "show the settings, or change one for this session" },
	{ "todo", TUI_SLASH_TODO, "", "show the agent's todo list" },
	{ "skills", TUI_SLASH_SKILLS, "", "list the skills the agent can load" },
	{ "policy", TUI_SLASH_POLICY, "",
	  "show the effective rules and recent decisions" },
	{ "compact", TUI_SLASH_COMPACT, "",
	  "summarise older turns to free context" },
	{ "clear", TUI_SLASH_CLEAR, "", "start a new conversation" },
	{ "cost", TUI_SLASH_COST, "", "show tokens used and turns" },
	{ "exit", TUI_SLASH_EXIT, "", "end the session" },
};

#define SLASH_COUNT (sizeof(slash_table) / sizeof(slash_table[0]))

#define SPACES " \t"

bool tui_slash_is_command(const char *line)
{
	return line[0] == '/';
}

/* Copy the next word of *p into buf; returns its length (0: none). */
static size_t next_word(const char **p, char *buf, size_t size, bool *long_word)
{
	size_t len;

	*p += strspn(*p, SPACES);
	len = strcspn(*p, SPACES);
	*long_word = len >= size;
	if (len < size) {
		memcpy(buf, *p, len);
		buf[len] = '\0';
	}
	*p += len;
	return len;
}

static bool valid_name(const char *value)
{
	const unsigned char *p = (const unsigned char *)value;

	for (; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f)
			return false;
	return true;
}

static bool valid_mode(const char *value)
{
	size_t i;

	for (i = 0; policy_preset_names[i]; i++)
		if (strcmp(value, policy_preset_names[i]) == 0)
			return true;
	return false;
}

static int parse_config(const char *p, struct tui_slash *out, char *err,
			size_t errlen)
{
	char key[16];
	bool too_long;

	out->key = TUI_CONFIG_SHOW;
	if (next_word(&p, key, sizeof(key), &too_long) == 0)
		return 0;
	if (too_long || (strcmp(key, "model") != 0 && strcmp(key, "mode") != 0 &&
			 strcmp(key, "provider") != 0)) {
		snprintf(err, errlen, "/config: unknown setting; use model, "
			 "mode or provider");
		return -1;
	}
	if (strcmp(key, "model") == 0)
		out->key = TUI_CONFIG_MODEL;
	else if (strcmp(key, "mode") == 0)
		out->key = TUI_CONFIG_MODE;
	else
		out->key = TUI_CONFIG_PROVIDER;

	if (next_word(&p, out->value, sizeof(out->value), &too_long) == 0) {
		snprintf(err, errlen, "/config %s: missing value", key);
		return -1;
	}
	if (too_long || !valid_name(out->value)) {
		snprintf(err, errlen, "/config %s: invalid value; use printable "
			 "ASCII of at most %d bytes", key, TUI_SLASH_ARG_MAX);
		return -1;
	}
	if (p[strspn(p, SPACES)] != '\0') {
		snprintf(err, errlen, "/config %s: takes one value", key);
		return -1;
	}
	if (out->key == TUI_CONFIG_MODE && !valid_mode(out->value)) {
		snprintf(err, errlen, "/config mode: unknown mode \"%s\"; use "
			 "read-only, workspace-write or full-access", out->value);
		return -1;
	}
	if (out->key == TUI_CONFIG_PROVIDER &&
	    strcmp(out->value, "openai") != 0 &&
	    strcmp(out->value, "anthropic") != 0) {
		snprintf(err, errlen, "/config provider: unknown provider "
			 "\"%s\"; use openai or anthropic", out->value);
		return -1;
	}
	return 0;
}

static const struct slash_entry *find_entry(const char *name)
{
	size_t i;

	for (i = 0; i < SLASH_COUNT; i++)
		if (strcmp(name, slash_table[i].name) == 0)
			return &slash_table[i];
	return NULL;
}

int tui_slash_parse(const char *line, struct tui_slash *out, char *err,
		    size_t errlen)
{
	const struct slash_entry *e;
	const char *p = line + 1;
	char name[32];
	bool too_long;

	memset(out, 0, sizeof(out[0]));
	if (!tui_slash_is_command(line) ||
	    next_word(&p, name, sizeof(name), &too_long) == 0 || too_long ||
	    !(e = find_entry(name))) {
		snprintf(err, errlen, "unknown command; type /help for the list");
		return -1;
	}
	out->command = e->command;
	if (e->command == TUI_SLASH_CONFIG)
		return parse_config(p, out, err, errlen);
	if (p[strspn(p, SPACES)] != '\0') {
		snprintf(err, errlen, "/%s takes no arguments", e->name);
		return -1;
	}
	return 0;
}

void tui_slash_help(FILE *out)
{
	size_t i;

	for (i = 0; i < SLASH_COUNT; i++)
		fprintf(out, "  /%s%s%s\n      %s\n", slash_table[i].name,
			*slash_table[i].usage ? " " : "", slash_table[i].usage,
			slash_table[i].summary);
	fputs("  Ctrl-C cancels the running turn; Ctrl-D or /exit ends the "
	      "session.\n", out);
}
