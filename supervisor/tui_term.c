/*
 * Saving and restoring the terminal's modes, and raw key reads.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "supervisor/tui_term.h"

/*
 * End bracketed paste, show the cursor, reset colours, turn autowrap back
 * on and reset the scroll region of the pinned area (the cursor is saved
 * around that, because the reset moves it home). Written on every
 * restore, because a crash may come while any of them is set.
 */
static const char reset_sequences[] = "\033[?2004l\033[?25h\033[0m"
				      "\033[?7h\0337\033[r\0338";

static struct termios saved_modes;
static volatile sig_atomic_t guard_installed;
static int guard_in_fd = -1;
static int guard_out_fd = -1;

static const int fatal_signals[] = {
	SIGHUP, SIGQUIT, SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGTERM,
};

void tui_term_restore(void)
{
	ssize_t unused;

	if (!guard_installed)
		return;
	tcsetattr(guard_in_fd, TCSAFLUSH, &saved_modes);
	if (guard_out_fd >= 0 && isatty(guard_out_fd)) {
		unused = write(guard_out_fd, reset_sequences,
			       sizeof(reset_sequences) - 1);
		(void)unused;
	}
}

/* Restore, then die of the same signal with its default action. */
static void restore_and_reraise(int sig)
{
	int saved_errno = errno;

	tui_term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
	errno = saved_errno;
}

static void restore_at_exit(void)
{
	tui_term_restore();
}

int tui_term_guard_install(int in_fd, int out_fd)
{
	struct sigaction sa;
	size_t i;

	if (!isatty(in_fd))
		return -1;
	if (guard_installed)
		return 0;
	if (tcgetattr(in_fd, &saved_modes) < 0)
		return -1;
	guard_in_fd = in_fd;
	guard_out_fd = out_fd;
	guard_installed = 1;
	atexit(restore_at_exit);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_and_reraise;
	sigemptyset(&sa.sa_mask);
	/* SA_RESETHAND: a second fault inside the handler kills at once. */
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, NULL);
	return 0;
}

/*
 * Read a whole line of input that is not a terminal and return its first
 * byte other than a space or tab, or '\n' for a blank line. Reading the
 * whole line leaves nothing of "yes" for the next read.
 */
static int read_key_line(int fd)
{
	char line[64];
	ssize_t n = tui_term_read_line(fd, line, sizeof(line));
	size_t i;

	if (n < 0)
		return -1;
	for (i = 0; i < (size_t)n; i++)
		if (line[i] != ' ' && line[i] != '\t')
			return (unsigned char)line[i];
	return '\n';
}

int tui_term_read_key(int fd)
{
	struct termios old, raw;
	bool tty = tcgetattr(fd, &old) == 0;
	unsigned char c;
	ssize_t n;

	if (!tty)
		return read_key_line(fd);

	raw = old;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG | IEXTEN);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	tcsetattr(fd, TCSANOW, &raw);
	do {
		n = read(fd, &c, 1);
	} while (n < 0 && errno == EINTR);
	tcsetattr(fd, TCSANOW, &old);
	return n == 1 ? c : -1;
}

ssize_t tui_term_read_line(int fd, char *buf, size_t size)
{
	size_t len = 0;
	bool any = false;
	unsigned char c;
	ssize_t n;

	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 1)
			break;
		any = true;
		if (c == '\n')
			break;
		if (len + 1 < size)
			buf[len++] = (char)c;
	}
	if (size > 0)
		buf[len] = '\0';
	return any ? (ssize_t)len : -1;
}
