/*
 * Slash commands typed at the prompt: parsing and validation into a
 * command and its arguments. What each command does is up to the session.
 */
#ifndef COWORKER_TUI_SLASH_H
#define COWORKER_TUI_SLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Maximum length of an argument (a model or provider name), in bytes. */
#define TUI_SLASH_ARG_MAX 256

enum tui_slash_command {
	TUI_SLASH_HELP,
	TUI_SLASH_CONFIG,	/* show, or set with key and value */
	TUI_SLASH_TODO,
	TUI_SLASH_SKILLS,
	TUI_SLASH_POLICY,
	TUI_SLASH_COMPACT,
	TUI_SLASH_CLEAR,
	TUI_SLASH_COST,
	TUI_SLASH_EXIT,
};

enum tui_config_key {
	TUI_CONFIG_SHOW,	/* /config alone */
	TUI_CONFIG_MODEL,
	TUI_CONFIG_MODE,	/* value is a preset name */
	TUI_CONFIG_PROVIDER,	/* value is "openai" or "anthropic" */
};

struct tui_slash {
	enum tui_slash_command command;
	enum tui_config_key key;
	char value[TUI_SLASH_ARG_MAX + 1];
};

/* Whether line is a slash command (starts with "/"). */
bool tui_slash_is_command(const char *line);

/*
 * Parse line ("/config model gpt-4o") into out. Returns 0, or -1 with err
 * naming the unknown command or the bad argument and what to type instead.
 */
int tui_slash_parse(const char *line, struct tui_slash *out, char *err,
		    size_t errlen);

/* Write the /help text: each command with its arguments and summary. */
void tui_slash_help(FILE *out);

#endif
