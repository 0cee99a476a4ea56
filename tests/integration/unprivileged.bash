# use_unprivileged_user: set AS to the command prefix that runs a command
# as an unprivileged user who owns $TOP, so that file modes apply to it.
# As root, that user is cwtest, which is created when missing; the sandbox
# unit test uses the same user. Otherwise the caller is unprivileged
# already and AS stays empty. Skips the test when neither works.
use_unprivileged_user() {
	AS=()
	if [ "$(id -u)" = 0 ]; then
		command -v setpriv >/dev/null || skip "setpriv(1) not installed"
		id cwtest >/dev/null 2>&1 ||
			useradd --system --no-create-home \
				--shell /usr/sbin/nologin cwtest ||
			skip "cannot create the user cwtest"
		chown -R "cwtest:$(id -g cwtest)" "$TOP"
		AS=(setpriv --reuid="$(id -u cwtest)" --regid="$(id -g cwtest)"
		    --clear-groups)
	fi
	# The build may sit below a directory that the user cannot enter.
	"${AS[@]}" "$COWORKER" version >/dev/null 2>&1 ||
		skip "an unprivileged user cannot run $COWORKER"
}
