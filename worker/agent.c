/*
 * The agent loop. The conversation is kept in Chat Completions form;
 * model.c talks to whichever provider the config names.
 *
 * A cancelled task must leave a conversation the next task can send.
 * Every assistant message with tool calls is followed by one tool message
 * per call, and calls not run yet get a "cancelled" result. A user
 * message that got no model reply is removed again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "compact.h"
#include "model.h"
#include "openai.h"
#include "tools.h"

#define ERROR_MESSAGE_MAX 4000	/* fits the "log" message limit of 4096 */

/* The tool result for calls a cancel stopped before they ran. */
#define CANCELLED_RESULT "cancelled by the user before it ran"

char *agent_redact(const char *text, const char *secret)
{
	size_t slen = secret ? strlen(secret) : 0;
	const char *p = text, *hit;
	struct buf b;

	buf_init(&b, strlen(text) + 1024 + strlen(text) * 10);
	while (slen && (hit = strstr(p, secret))) {
		if (buf_append(&b, p, (size_t)(hit - p)) < 0 ||
		    buf_append(&b, "[redacted]", 10) < 0)
			goto bad;
		p = hit + slen;
	}
	if (buf_append(&b, p, strlen(p)) < 0)
		goto bad;
	return buf_take(&b);
bad:
	buf_free(&b);
	return NULL;
}

void agent_send_done(struct agent *a, const char *status, const char *summary)
{
	cJSON *fields = cJSON_CreateObject();
	char *cut = NULL;

	if (!fields || !cJSON_AddStringToObject(fields, "status", status))
		channel_die("out of memory");
	if (summary) {
		cut = strdup(summary);
		if (!cut)
			channel_die("out of memory");
		text_truncate(cut, PROTO_STR_MAX);
		if (!cJSON_AddStringToObject(fields, "summary", cut))
			channel_die("out of memory");
	}
	channel_event(a->ch, PROTO_DONE, fields);
	cJSON_Delete(fields);
	free(cut);
}

/* Report a failure as a "log" and the final "done"; returns status 1. */
static int agent_fail(struct agent *a, const char *message)
{
	char *clean = agent_redact(message, a->cfg->api_key);

	if (!clean)
		channel_die("out of memory");
	text_truncate(clean, ERROR_MESSAGE_MAX);
	channel_log(a->ch, "error", "%s", clean);
	agent_send_done(a, "error", clean);
	free(clean);
	return 1;
}

static void send_turn(struct agent *a, long turn,
		      const struct openai_response *resp)
{
	char model[257], reason[65];
	cJSON *f = cJSON_CreateObject();

	snprintf(model, sizeof(model), "%s",
		 resp->model ? resp->model : a->cfg->model);
	text_truncate(model, 256);
	if (!f || !cJSON_AddNumberToObject(f, "turn", (double)turn) ||
	    !cJSON_AddStringToObject(f, "model", model) ||
	    !cJSON_AddNumberToObject(f, "tool_calls",
				     (double)resp->tool_call_count))
		channel_die("out of memory");
	if (resp->finish_reason) {
		snprintf(reason, sizeof(reason), "%s", resp->finish_reason);
		text_truncate(reason, 64);
		if (!cJSON_AddStringToObject(f, "finish_reason", reason))
			channel_die("out of memory");
	}
	if ((resp->prompt_tokens >= 0 &&
	     !cJSON_AddNumberToObject(f, "prompt_tokens",
				      (double)resp->prompt_tokens)) ||
	    (resp->completion_tokens >= 0 &&
	     !cJSON_AddNumberToObject(f, "completion_tokens",
				      (double)resp->completion_tokens)))
		channel_die("out of memory");
	channel_event(a->ch, PROTO_TURN, f);
	cJSON_Delete(f);
}

static void send_text(struct agent *a, const char *text)
{
	cJSON *f = cJSON_CreateObject();
	char *cut = strdup(text);

	if (!f || !cut)
		channel_die("out of memory");
	text_truncate(cut, PROTO_STR_MAX);
	if (!cJSON_AddStringToObject(f, "text", cut))
		channel_die("out of memory");
	channel_event(a->ch, PROTO_TEXT, f);
	cJSON_Delete(f);
	free(cut);
}

static void append_message(struct agent *a, cJSON *m)
{
	if (!m || !cJSON_AddItemToArray(a->messages, m))
		channel_die("out of memory");
}

/*
 * Run every tool call in order and append one tool message for each. After
 * a cancel, the calls not started yet get a result saying so, so that the
 * assistant message never lacks one.
 */
static void agent_run_tools(struct agent *a, const struct openai_response *resp)
{
	const struct openai_tool_call *call;
	char *result;
	size_t i;

	append_message(a, openai_assistant_message(resp));
	for (i = 0; i < resp->tool_call_count; i++) {
		call = &resp->tool_calls[i];
		if (a->ch->cancelled) {
			append_message(a, openai_tool_message(call->id,
							      CANCELLED_RESULT));
			continue;
		}
		result = tools_call(a->ch, call->name, call->arguments);
		if (!result)
			channel_die("out of memory");
		append_message(a, openai_tool_message(call->id, result));
		free(result);
	}
}

/*
 * The system prompt, then the project's instructions (AGENTS.md, only in a
 * trusted project) and the skills section the supervisor sent (names and
 * descriptions only; load_skill fetches a skill's instructions).
 */
static cJSON *system_message(const struct worker_config *cfg)
{
	cJSON *m = openai_system_message(cfg->workspace), *content;
	const char *skills = cfg->skills ? cfg->skills : "";
	const char *rules = cfg->instructions ? cfg->instructions : "";
	struct buf b;

	if (!m || (!skills[0] && !rules[0]))
		return m;
	content = cJSON_GetObjectItemCaseSensitive(m, "content");
	buf_init(&b, PROTO_STR_MAX + PROTO_SKILLS_SECTION_MAX +
		 PROTO_INSTRUCTIONS_MAX + 256);
	if (!cJSON_IsString(content) ||
	    buf_printf(&b, "%s%s%s%s%s", content->valuestring,
		       rules[0] ? "\n\nInstructions from the project's own "
		       "files (AGENTS.md):\n" : "", rules,
		       skills[0] ? "\n\n" : "", skills) < 0 ||
	    !cJSON_ReplaceItemInObjectCaseSensitive(m, "content",
			cJSON_CreateString(b.data))) {
		buf_free(&b);
		cJSON_Delete(m);
		return NULL;
	}
	buf_free(&b);
	return m;
}

/*
 * The answer stays in the conversation for the next task; a refusal or an
 * empty answer still gets content, which the API requires.
 */
static void agent_keep_answer(struct agent *a,
			      const struct openai_response *resp,
			      const char *text)
{
	struct openai_response answer = *resp;

	answer.content = text ? text : "";
	append_message(a, openai_assistant_message(&answer));
}

static void send_turn_start(struct agent *a, long turn)
{
	cJSON *f = cJSON_CreateObject();

	if (!f || !cJSON_AddNumberToObject(f, "turn", (double)turn))
		channel_die("out of memory");
	channel_event(a->ch, PROTO_TURN_START, f);
	cJSON_Delete(f);
}

/* True when the last message is a user message with no answer yet. */
static bool ends_with_user(const struct agent *a)
{
	const cJSON *last = cJSON_GetArrayItem(a->messages,
					       cJSON_GetArraySize(a->messages) - 1);
	const cJSON *role = cJSON_GetObjectItemCaseSensitive(last, "role");

	return cJSON_IsString(role) && strcmp(role->valuestring, "user") == 0;
}

static int agent_cancelled(struct agent *a, long turn)
{
	char summary[128];

	snprintf(summary, sizeof(summary), "cancelled in model turn %ld",
		 turn);
	agent_send_done(a, "cancelled", summary);
	return 0;
}

static int agent_loop(struct agent *a)
{
	struct openai_response resp;
	char err[ERROR_MESSAGE_MAX + 1];
	const char *text;
	long turn;
	int rc;

	for (turn = 1; turn <= a->cfg->max_turns; turn++) {
		if (a->ch->cancelled)
			return agent_cancelled(a, turn);
		if (compact_check(&a->model, a->messages, a->tools, turn,
				  &a->budget, err, sizeof(err)) < 0) {
			if (a->ch->cancelled)
				return agent_cancelled(a, turn);
			return agent_fail(a, err);
		}
		send_turn_start(a, turn);
		rc = model_ask(&a->model, a->messages, a->tools, &resp, err,
			       sizeof(err));
		if (rc == MODEL_CANCELLED)
			return agent_cancelled(a, turn);
		if (rc < 0)
			return agent_fail(a, err);

		/* A refusal is the answer when there is no other text. */
		text = resp.content && resp.content[0] ? resp.content :
		       resp.refusal;
		send_turn(a, turn, &resp);
		context_budget_add(&a->budget, resp.prompt_tokens,
				   resp.completion_tokens);
		if (text && text[0])
			send_text(a, text);

		if (!resp.tool_call_count) {
			agent_keep_answer(a, &resp, text);
			agent_send_done(a, "ok", text ? text : "");
			openai_response_free(&resp);
			return 0;
		}
		/* Like the turn limit, the budget leaves the calls unrun. */
		if (context_budget_reached(&a->budget)) {
			context_budget_describe(&a->budget, turn, err,
						sizeof(err));
			agent_send_done(a, "token_budget", err);
			openai_response_free(&resp);
			return 0;
		}
		if (turn < a->cfg->max_turns)
			agent_run_tools(a, &resp);
		openai_response_free(&resp);
	}

	/* The last response still asked for tools; they were not run. */
	snprintf(err, sizeof(err), "stopped after %ld model turn%s with tool "
		 "calls still pending", a->cfg->max_turns,
		 a->cfg->max_turns == 1 ? "" : "s");
	agent_send_done(a, "max_turns", err);
	return 0;
}

void agent_init(struct agent *a, struct channel *ch, struct http_client *http,
		const struct worker_config *cfg)
{
	memset(a, 0, sizeof(*a));
	a->ch = ch;
	a->cfg = cfg;
	model_init(&a->model, ch, http, cfg);
	/* The budget covers the whole session, every task of it. */
	a->budget.limit = cfg->token_budget;
	a->tools = tools_schema();
	if (!a->tools)
		channel_die("out of memory");
	agent_clear(a);
}

void agent_clear(struct agent *a)
{
	cJSON_Delete(a->messages);
	a->messages = cJSON_CreateArray();
	if (!a->messages)
		channel_die("out of memory");
	append_message(a, system_message(a->cfg));
}

int agent_task(struct agent *a, const char *text)
{
	int status;

	/* A cancel that came between tasks was for the one before. */
	a->ch->cancelled = false;
	append_message(a, openai_user_message(text));
	status = agent_loop(a);
	a->ch->cancelled = false;

	/*
	 * Cancelled or failed before the model answered: the task's message
	 * goes, so the next task does not follow an unanswered one. Every
	 * other end leaves an answer or complete tool results last.
	 */
	if (ends_with_user(a))
		cJSON_DeleteItemFromArray(a->messages,
					  cJSON_GetArraySize(a->messages) - 1);
	return status;
}

void agent_free(struct agent *a)
{
	model_free(&a->model);
	cJSON_Delete(a->messages);
	cJSON_Delete(a->tools);
	a->messages = NULL;
	a->tools = NULL;
}
